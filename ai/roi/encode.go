package roi

import (
	"fmt"
	"strconv"
	"strings"

	"mps/internal/aispec"
)

// maxRanges bounds the branches of one ROI encode graph; longer lists
// are merged pairwise (their boxes united) until they fit.
const maxRanges = 200

// EncodeArgs are the ffmpeg arguments (after the input) that encode the
// input's video with x264, each range's boxes given qoffset through
// addroi, and its audio as AAC, into out (MP4). addroi has no timeline
// support, so the picture is split into one branch per range, trimmed,
// given that range's regions and concatenated again; a range without
// boxes passes unchanged. With no ranges it is the plain encode with the
// same settings, the baseline ROI encodes are compared with.
func EncodeArgs(ranges []aispec.ROIRange, enc aispec.ROIEncode, w, h int, audio bool, out string) []string {
	ranges = fit(ranges)
	var args []string
	if len(ranges) > 0 {
		var g strings.Builder
		fmt.Fprintf(&g, "[0:v:0]split=%d", len(ranges))
		for i := range ranges {
			fmt.Fprintf(&g, "[s%d]", i)
		}
		g.WriteString(";")
		for i, r := range ranges {
			fmt.Fprintf(&g, "[s%d]trim=start=%s", i, ftoa(r.Start))
			if i+1 < len(ranges) {
				fmt.Fprintf(&g, ":end=%s", ftoa(r.End))
			}
			g.WriteString(",setpts=PTS-STARTPTS")
			for _, b := range r.Boxes {
				fmt.Fprintf(&g, ",addroi=x=%d:y=%d:w=%d:h=%d:qoffset=%s", b.X, b.Y, min(b.W, w-b.X), min(b.H, h-b.Y), ftoa(enc.QOffset))
			}
			fmt.Fprintf(&g, "[r%d];", i)
		}
		for i := range ranges {
			fmt.Fprintf(&g, "[r%d]", i)
		}
		fmt.Fprintf(&g, "concat=n=%d:v=1:a=0,format=yuv420p[v]", len(ranges))
		args = append(args, "-filter_complex", g.String(), "-map", "[v]")
	} else {
		args = append(args, "-map", "0:v:0", "-pix_fmt", "yuv420p")
	}
	args = append(args, "-c:v", "libx264", "-preset", enc.Preset)
	if enc.Bitrate != "" {
		args = append(args, "-b:v", enc.Bitrate)
	} else {
		args = append(args, "-crf", strconv.Itoa(enc.CRF))
	}
	if audio {
		args = append(args, "-map", "0:a:0", "-c:a", "aac", "-b:a", "128k")
	}
	return append(args, "-sn", "-dn", "-map_metadata", "-1", "-movflags", "+faststart", out)
}

// fit merges neighbouring ranges until at most maxRanges remain.
func fit(ranges []aispec.ROIRange) []aispec.ROIRange {
	for len(ranges) > maxRanges {
		var out []aispec.ROIRange
		for i := 0; i < len(ranges); i += 2 {
			r := ranges[i]
			if i+1 < len(ranges) {
				n := ranges[i+1]
				r = aispec.ROIRange{Start: r.Start, End: n.End, Boxes: append(append([]aispec.ROIBox{}, r.Boxes...), n.Boxes...)}
			}
			out = append(out, r)
		}
		ranges = out
	}
	return ranges
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }
