package qc

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// sample is one decoded measurement: a picture's luma statistics or an
// audio block's loudness, at stream time t (seconds from the first sample
// of its kind).
type sample struct {
	video bool
	t     float64
	vals  map[string]float64
}

// decodeArgs builds the decoder's arguments: MPEG-TS on stdin; the first
// video track scaled to 64x36 for signalstats (YAVG, YMAX, YDIF: black and
// freeze); the first audio track's EBU R128 momentary and short-term
// loudness. The metadata filters print to ffmpeg's log (stderr), which is
// written line by line, where a file or pipe output would sit in a 32 KB
// buffer for seconds. Both branches are mapped to the null muxer: a branch
// ending in a sink inside the graph is run only when the mapped output
// asks, and falls seconds behind.
//
// With keysOnly the checker feeds each keyframe and the few units after it
// (flushUnits): they make the MPEG-TS demuxer hand the keyframe on at once
// (it ends a video PES only when the next one starts) and get it out of
// the decoder's reorder delay; select keeps only the keyframes, so YDIF is
// the change from one keyframe to the next.
func decodeArgs(video, audio, keysOnly bool) []string {
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-threads", "1"}
	sel := ""
	if keysOnly {
		args = append(args, "-flags", "low_delay")
		sel = "select=key,"
	}
	// Start at the first decodable picture instead of analysing seconds of
	// a sparse (keyframes only) input for its frame rate.
	args = append(args, "-analyzeduration", "0", "-fpsprobesize", "0", "-f", "mpegts", "-i", "pipe:0")
	var g, maps []string
	if video {
		g = append(g, "[0:v:0]"+sel+"scale=64:36:flags=fast_bilinear,signalstats,metadata=mode=print[v]")
		maps = append(maps, "-map", "[v]")
	}
	if audio {
		g = append(g, "[0:a:0]ebur128=metadata=1,ametadata=mode=print[a]")
		maps = append(maps, "-map", "[a]")
	}
	args = append(args, "-filter_complex", strings.Join(g, ";"))
	return append(append(args, maps...), "-f", "null", "-")
}

// decoder is the running ffmpeg: the checker writes MPEG-TS to in, and
// samples arrive on out.
type decoder struct {
	cmd *exec.Cmd
	in  *os.File
}

// startDecoder starts ffmpeg and a goroutine that parses its log into
// samples on out; it ends when ffmpeg closes stderr. done is closed then.
func startDecoder(ctx context.Context, video, audio, keysOnly bool, out chan<- sample) (*decoder, <-chan struct{}, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	logR, logW, err := os.Pipe()
	if err != nil {
		return nil, nil, closeAll(err, inR, inW)
	}
	cmd := exec.CommandContext(ctx, "ffmpeg", decodeArgs(video, audio, keysOnly)...)
	cmd.Stdin, cmd.Stderr = inR, logW
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Start()
	_ = closeAll(nil, inR, logW) // the child has its own copies
	if err != nil {
		return nil, nil, closeAll(err, inW, logR)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		parseLog(ctx, logR, out)
	}()
	return &decoder{cmd: cmd, in: inW}, done, nil
}

// complete reports whether a sample has every value the checks read.
func complete(s *sample) bool {
	keys := []string{"M", "S"}
	if s.video {
		keys = []string{"YAVG", "YMAX", "YDIF"}
	}
	for _, k := range keys {
		if _, ok := s.vals[k]; !ok {
			return false
		}
	}
	return true
}

func closeAll(err error, fs ...*os.File) error {
	for _, f := range fs {
		f.Close()
	}
	return err
}

// parseLog reads the metadata filters' lines from ffmpeg's log —
// "[Parsed_metadata_2 @ 0x…] frame:N pts:P pts_time:T" then
// "[…] key=value" — and sends each sample as soon as it has the values
// the checks read; it closes r at the end.
func parseLog(ctx context.Context, r io.ReadCloser, out chan<- sample) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	var cur [2]*sample // video, audio
	for sc.Scan() {
		line := sc.Text()
		var kind int
		switch {
		case strings.HasPrefix(line, "[Parsed_metadata_"):
			kind = 0
		case strings.HasPrefix(line, "[Parsed_ametadata_"):
			kind = 1
		default:
			continue
		}
		i := strings.Index(line, "] ")
		if i < 0 {
			continue
		}
		line = line[i+2:]
		if strings.HasPrefix(line, "frame:") {
			cur[kind] = &sample{video: kind == 0, vals: map[string]float64{}}
			if j := strings.Index(line, "pts_time:"); j >= 0 {
				cur[kind].t, _ = strconv.ParseFloat(strings.Fields(line[j+9:])[0], 64)
			}
			continue
		}
		s := cur[kind]
		k, v, ok := strings.Cut(line, "=")
		if !ok || s == nil {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			s.vals[k[strings.LastIndex(k, ".")+1:]] = f
		}
		if complete(s) {
			select {
			case out <- *s:
			case <-ctx.Done():
				return
			}
			cur[kind] = nil
		}
	}
}
