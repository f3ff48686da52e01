package highlights

import (
	"context"
	"fmt"
	"strings"

	"mps/ai/internal/ffexec"
)

// joinCrossfade writes clips (in time order) into out as one MP4 in which
// each clip blends into the next over cf seconds: xfade for the picture
// and acrossfade for the sound. Each clip's picture is its own input seeked
// in video (the seekable copy: a seek in MPEG-TS lands off the keyframes
// and loses frames), so only the clips are decoded; the sound is trimmed
// from input, which decodes cheaply. The whole reel is encoded once and
// lasts the clips' sum less cf per join.
func joinCrossfade(ctx context.Context, video, input string, clips [][2]float64, audio bool, cf float64, out string) error {
	var args []string
	for _, c := range clips {
		args = append(args, "-ss", ftoa(c[0]), "-t", ftoa(c[1]-c[0]), "-i", video)
	}
	if audio {
		args = append(args, "-i", input)
	}
	args = append(args, "-filter_complex", crossfadeGraph(clips, audio, cf), "-map", "[v]")
	if audio {
		args = append(args, "-map", "[a]", "-c:a", "aac", "-b:a", "160k")
	}
	args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
		"-movflags", "+faststart", out)
	if err := ffexec.FFmpeg(ctx, args, 0, nil); err != nil {
		return fmt.Errorf("join reel with crossfades: %w", err)
	}
	return nil
}

// crossfadeGraph chains xfade (and acrossfade) over the inputs. The k-th
// blend starts where the reel so far ends less cf: the sum of the first
// k+1 clips less (k+1) blends. Every clip's timestamps start from zero and
// share one time base and frame rate, which xfade requires.
func crossfadeGraph(clips [][2]float64, audio bool, cf float64) string {
	var g strings.Builder
	for i := range clips {
		fmt.Fprintf(&g, "[%d:v:0]settb=AVTB,setpts=PTS-STARTPTS,format=yuv420p[v%d];", i, i)
		if audio {
			fmt.Fprintf(&g, "[%d:a:0]atrim=%s:%s,aresample=48000,asetpts=PTS-STARTPTS[a%d];",
				len(clips), ftoa(clips[i][0]), ftoa(clips[i][1]), i)
		}
	}
	if len(clips) == 1 {
		g.WriteString("[v0]null[v]")
		if audio {
			g.WriteString(";[a0]anull[a]")
		}
		return g.String()
	}
	vPrev, aPrev, length := "v0", "a0", clips[0][1]-clips[0][0]
	for k := 1; k < len(clips); k++ {
		vOut, aOut := fmt.Sprintf("vx%d", k), fmt.Sprintf("ax%d", k)
		if k == len(clips)-1 {
			vOut, aOut = "v", "a"
		}
		fmt.Fprintf(&g, "[%s][v%d]xfade=transition=fade:duration=%s:offset=%s[%s];", vPrev, k, ftoa(cf), ftoa(length-cf), vOut)
		if audio {
			fmt.Fprintf(&g, "[%s][a%d]acrossfade=d=%s[%s];", aPrev, k, ftoa(cf), aOut)
		}
		length += clips[k][1] - clips[k][0] - cf
		vPrev, aPrev = vOut, aOut
	}
	return strings.TrimSuffix(g.String(), ";")
}
