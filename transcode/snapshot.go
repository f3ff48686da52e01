package transcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"mps/internal/stream"
)

// SnapshotRule says how often a path is snapshotted and how the pictures
// are kept.
type SnapshotRule struct {
	// Interval is the least time between two pictures (default 10 s). A
	// picture is taken at the first keyframe after it, so a source with a
	// long GOP gives fewer pictures.
	Interval time.Duration `json:"interval" yaml:"interval"`
	// Width scales pictures to this width, keeping the aspect (0: source).
	Width int `json:"width,omitempty" yaml:"width"`
	// Quality is ffmpeg's -q:v for MJPEG, 2 (best) to 31 (default 5).
	Quality int `json:"quality,omitempty" yaml:"quality"`
	// Keep is how many timestamped pictures are kept (default 10);
	// latest.jpg is always kept.
	Keep int `json:"keep,omitempty" yaml:"keep"`
}

func (r SnapshotRule) withDefaults() SnapshotRule {
	if r.Interval <= 0 {
		r.Interval = 10 * time.Second
	}
	if r.Quality < 2 || r.Quality > 31 {
		r.Quality = 5
	}
	if r.Keep <= 0 {
		r.Keep = 10
	}
	if r.Width < 0 {
		r.Width = 0
	}
	r.Width &^= 1
	return r
}

// snapshotNameRE matches the timestamped files the snapshotter writes.
var snapshotNameRE = regexp.MustCompile(`^\d{8}T\d{6}\.\d{3}Z\.jpg$`)

const (
	snapshotTimeLayout = "20060102T150405.000Z"
	latestName         = "latest.jpg"
)

var errSnapshotterDown = errors.New("snapshot ffmpeg not running")

// snapReq is a picture expected from ffmpeg, in the order AUs were
// written: saved as a file, sent to an on-demand caller, or dropped.
type snapReq struct {
	at      time.Time
	reply   chan []byte
	discard bool
}

// snapshotter keeps one ffmpeg per path that decodes only the keyframes
// it is given and writes JPEGs to its stdout.
//
// ffmpeg's decoding pipeline holds one picture back until it receives the
// next, so each keyframe is written twice: the second copy pushes the
// first picture out at once and is itself dropped when the next write
// pushes it out. That doubles the (small) decode cost but gives pictures
// without an Interval of delay, which on-demand requests need.
type snapshotter struct {
	m     *Manager
	s     *stream.Stream
	path  string
	rule  SnapshotRule
	dir   string
	prev  *snapshotter
	video *stream.Track

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	writeMu sync.Mutex // serialises enqueue+write, so queue order is write order
	in      io.Writer
	qmu     sync.Mutex
	queue   []snapReq

	spawns atomic.Int32 // ffmpeg processes started, for tests and logs
}

// snapshotDir returns where a path's pictures live.
func (m *Manager) snapshotDir(path string) string {
	return filepath.Join(m.cfg.Dir, "snapshots", filepath.FromSlash(path))
}

func (m *Manager) startSnapshotter(s *stream.Stream, rule SnapshotRule) {
	path := s.Path()
	if m.cfg.Dir == "" {
		m.log.Error("snapshots not started: no data directory configured", "path", path)
		return
	}
	if err := stream.ValidPath(path); err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	prev := m.snaps[path]
	if prev != nil && prev.s == s {
		return
	}
	sn := &snapshotter{m: m, s: s, path: path, rule: rule.withDefaults(), dir: m.snapshotDir(path), prev: prev, done: make(chan struct{})}
	sn.ctx, sn.cancel = context.WithCancel(m.ctx)
	if prev != nil {
		prev.cancel()
	}
	m.snaps[path] = sn
	m.wg.Add(1)
	go sn.run()
}

func (sn *snapshotter) run() {
	m := sn.m
	defer func() {
		m.mu.Lock()
		if m.snaps[sn.path] == sn {
			delete(m.snaps, sn.path)
		}
		m.mu.Unlock()
		sn.cancel()
		close(sn.done)
		m.wg.Done()
	}()
	if sn.prev != nil {
		<-sn.prev.done
	}
	for _, t := range sn.s.Tracks() {
		if t.Codec == stream.CodecH264 || t.Codec == stream.CodecH265 {
			sn.video = t
			break
		}
	}
	if sn.video == nil {
		m.log.Warn("snapshots not started: no H.264/H.265 video", "path", sn.path)
		return
	}
	if err := os.MkdirAll(sn.dir, 0o755); err != nil {
		m.log.Error("snapshots not started", "path", sn.path, "error", err)
		return
	}
	backoff := m.cfg.RestartBackoff
	for {
		err := sn.runOnce()
		if isDone(sn.s.Done()) || sn.ctx.Err() != nil {
			return
		}
		m.log.Warn("snapshot ffmpeg died; restarting", "path", sn.path, "in", backoff, "error", err)
		if !sleep(sn.ctx, sn.s.Done(), backoff) {
			return
		}
		backoff = min(2*backoff, m.cfg.MaxBackoff)
	}
}

// snapshotArgs returns the arguments of an ffmpeg that reads Annex-B
// access units on stdin and writes one JPEG per picture on stdout; frames
// > 0 stops it after that many pictures.
func snapshotArgs(codec stream.Codec, rule SnapshotRule, frames int) []string {
	format := "h264"
	if codec == stream.CodecH265 {
		format = "hevc"
	}
	a := []string{"-hide_banner", "-nostats", "-loglevel", "error", "-threads", "1",
		"-probesize", "32", "-analyzeduration", "0", "-f", format, "-i", "pipe:0", "-an"}
	if rule.Width > 0 {
		a = append(a, "-vf", "scale="+strconv.Itoa(rule.Width)+":-2")
	}
	if frames > 0 {
		a = append(a, "-frames:v", strconv.Itoa(frames))
	}
	return append(a, "-fps_mode", "passthrough", "-c:v", "mjpeg", "-q:v", strconv.Itoa(rule.Quality),
		"-pix_fmt", "yuvj420p", "-flush_packets", "1", "-f", "image2pipe", "pipe:1")
}

func (sn *snapshotter) runOnce() error {
	ctx, cancel := context.WithCancel(sn.ctx)
	defer cancel()
	p, err := startPipeProc(ctx, sn.m.cfg.FFmpeg, snapshotArgs(sn.video.Codec, sn.rule, 0))
	if err != nil {
		return err
	}
	cmd, inW, outR, stderr := p.cmd, p.in, p.out, p.stderr
	sn.spawns.Add(1)
	sn.writeMu.Lock()
	sn.in = inW
	sn.writeMu.Unlock()

	waited := make(chan error, 1)
	go func() {
		waited <- cmd.Wait()
		cancel() // ends the feed loop below if ffmpeg died
	}()
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer outR.Close()
		sp := newJPEGSplitter(outR)
		for {
			pic, err := sp.Next()
			if err != nil {
				_, _ = io.Copy(io.Discard, outR)
				return
			}
			sn.deliver(pic)
		}
	}()

	rd := sn.s.NewReader(ctx, stream.ReaderOptions{Protocol: "snapshot"})
	var last time.Duration
	have := false
	for {
		u, err := rd.Read()
		if err != nil {
			break
		}
		if u.Track != sn.video || !u.Key {
			continue
		}
		if have && u.PTS >= last && u.PTS-last < sn.rule.Interval {
			continue
		}
		at := u.Time
		if at.IsZero() {
			at = time.Now()
		}
		if err := sn.submit(u, snapReq{at: at}); err != nil {
			break
		}
		last, have = u.PTS, true
	}
	rd.Close()
	sn.writeMu.Lock()
	sn.in = nil
	inW.Close() // ffmpeg flushes the pictures it holds and exits
	sn.writeMu.Unlock()
	kill := time.AfterFunc(5*time.Second, cancel)
	werr := <-waited
	kill.Stop()
	<-readDone
	sn.qmu.Lock()
	for _, q := range sn.queue {
		if q.reply != nil {
			close(q.reply)
		}
	}
	sn.queue = nil
	sn.qmu.Unlock()
	if werr != nil && !isDone(sn.s.Done()) {
		return fmt.Errorf("ffmpeg: %w: %s", werr, stderr.lastLines(3))
	}
	return werr
}

// annexB returns the access unit in Annex-B form with its track's
// parameter sets in front when it lacks them, followed by an access unit
// delimiter so that ffmpeg's parser knows the picture is complete.
func annexB(t *stream.Track, au [][]byte) ([]byte, error) {
	var hasSPS bool
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		if t.Codec == stream.CodecH264 && h264.NALUType(n[0]&0x1f) == h264.NALUTypeSPS {
			hasSPS = true
		}
		if t.Codec == stream.CodecH265 && (n[0]>>1)&0x3f == 33 {
			hasSPS = true
		}
	}
	var nalus [][]byte
	if !hasSPS {
		for _, p := range [][]byte{t.VPS, t.SPS, t.PPS} {
			if len(p) > 0 {
				nalus = append(nalus, p)
			}
		}
	}
	for _, n := range au {
		if len(n) > 0 {
			nalus = append(nalus, n)
		}
	}
	if t.Codec == stream.CodecH265 {
		nalus = append(nalus, []byte{35 << 1, 1, 0x50}) // AUD_NUT
	} else {
		nalus = append(nalus, []byte{0x09, 0xF0})
	}
	b, err := h264.AnnexB(nalus).Marshal()
	if err != nil {
		return nil, fmt.Errorf("annex-b: %w", err)
	}
	return b, nil
}

// submit writes a keyframe to the running ffmpeg twice (see snapshotter)
// and queues what its pictures are for.
func (sn *snapshotter) submit(u *stream.Unit, req snapReq) error {
	data, err := annexB(sn.video, u.Payload)
	if err != nil {
		return err
	}
	sn.writeMu.Lock()
	defer sn.writeMu.Unlock()
	if sn.in == nil {
		return errSnapshotterDown
	}
	sn.qmu.Lock()
	sn.queue = append(sn.queue, req, snapReq{discard: true})
	sn.qmu.Unlock()
	for range 2 {
		if _, err := sn.in.Write(data); err != nil {
			return fmt.Errorf("write to snapshot ffmpeg: %w", err)
		}
	}
	return nil
}

func (sn *snapshotter) deliver(pic []byte) {
	sn.qmu.Lock()
	if len(sn.queue) == 0 {
		sn.qmu.Unlock()
		return
	}
	q := sn.queue[0]
	sn.queue = sn.queue[1:]
	sn.qmu.Unlock()
	switch {
	case q.discard:
	case q.reply != nil:
		q.reply <- pic
	default:
		if err := sn.save(pic, q.at); err != nil {
			sn.m.log.Error("snapshot not saved", "path", sn.path, "error", err)
		}
	}
}

func (sn *snapshotter) save(pic []byte, at time.Time) error {
	name := at.UTC().Format(snapshotTimeLayout) + ".jpg"
	if err := writeAtomic(sn.dir, name, pic); err != nil {
		return err
	}
	if err := writeAtomic(sn.dir, latestName, pic); err != nil {
		return err
	}
	sn.prune()
	sn.m.snapshots.Add(1)
	sn.m.emit(EventSnapshotCreated, sn.path, map[string]any{
		"file": name, "size": len(pic), "url": "/snapshots/" + sn.path + "/" + name,
	})
	return nil
}

// writeAtomic writes data to dir/name through a temporary file and a
// rename, so readers see the old picture or the new one, never half.
func writeAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, ".tmp-*.jpg")
	if err != nil {
		return fmt.Errorf("snapshot temp file: %w", err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("rename snapshot: %w", err)
	}
	return nil
}

// prune removes the oldest timestamped pictures beyond Keep.
func (sn *snapshotter) prune() {
	names := listSnapshotNames(sn.dir)
	for i := 0; i < len(names)-sn.rule.Keep; i++ {
		_ = os.Remove(filepath.Join(sn.dir, names[i]))
	}
}

// listSnapshotNames returns the timestamped pictures in dir, oldest first.
func listSnapshotNames(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && snapshotNameRE.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// Snapshot returns a JPEG of the newest keyframe of s: through the path's
// running snapshotter when there is one, else with a one-shot ffmpeg.
func (m *Manager) Snapshot(ctx context.Context, s *stream.Stream, width, quality int) ([]byte, error) {
	var video *stream.Track
	for _, t := range s.Tracks() {
		if t.Codec == stream.CodecH264 || t.Codec == stream.CodecH265 {
			video = t
			break
		}
	}
	if video == nil {
		return nil, errors.New("stream has no H.264/H.265 video")
	}
	rd := s.NewReader(ctx, stream.ReaderOptions{Protocol: "snapshot"})
	var key *stream.Unit
	for key == nil {
		u, err := rd.Read()
		if err != nil {
			rd.Close()
			return nil, fmt.Errorf("waiting for a keyframe: %w", err)
		}
		if u.Track == video && u.Key {
			key = u
		}
	}
	rd.Close()

	m.mu.Lock()
	sn := m.snaps[s.Path()]
	m.mu.Unlock()
	if sn != nil && sn.s == s && (width == 0 || width&^1 == sn.rule.Width) {
		reply := make(chan []byte, 1)
		if err := sn.submit(key, snapReq{reply: reply}); err == nil {
			select {
			case pic, ok := <-reply:
				if ok {
					return pic, nil
				}
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	rule := SnapshotRule{Width: width, Quality: quality}.withDefaults()
	if width == 0 && sn != nil {
		rule.Width = sn.rule.Width
	}
	return m.oneShot(ctx, video, key, rule)
}

func (m *Manager) oneShot(ctx context.Context, video *stream.Track, key *stream.Unit, rule SnapshotRule) ([]byte, error) {
	data, err := annexB(video, key.Payload)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var out bytes.Buffer
	stderr := &tail{max: 2048}
	cmd := exec.CommandContext(ctx, m.cfg.FFmpeg, snapshotArgs(video.Codec, rule, 1)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(data), &out, stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ffmpeg snapshot: %w: %s", err, stderr.lastLines(3))
	}
	pic, err := newJPEGSplitter(&out).Next()
	if err != nil {
		return nil, fmt.Errorf("ffmpeg snapshot output: %w", err)
	}
	return pic, nil
}
