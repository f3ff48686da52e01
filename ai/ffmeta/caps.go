package ffmeta

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strings"
)

// Capabilities is what the ffmpeg in use can do, detected once at start:
// the media-AI operations choose their metrics from it (VMAF only with
// libvmaf) and /api/v1/capabilities shows it, so nothing claims a metric
// the binary cannot compute.
type Capabilities struct {
	// Version is ffmpeg's version string ("5.1.9-0+deb12u1").
	Version string `json:"version"`
	// Encoders are the names of the video and audio encoders.
	Encoders []string `json:"encoders"`
	// VMAF reports the libvmaf filter (Debian's ffmpeg has none).
	VMAF bool `json:"vmaf"`
	// MSSSIM reports a multi-scale SSIM filter (none up to ffmpeg 7).
	MSSSIM bool `json:"ms_ssim"`
	// Filters lists the analysis filters the operations use and whether
	// each is present.
	Filters map[string]bool `json:"filters"`
}

// analysisFilters are the filters the audit, quality and QC code use.
var analysisFilters = []string{"psnr", "ssim", "libvmaf", "msssim", "blackdetect", "freezedetect", "silencedetect",
	"ebur128", "astats", "signalstats", "blurdetect", "blockdetect", "siti", "scdet"}

// Detect asks ffmpeg for its version, encoders and filters.
func Detect(ctx context.Context) (Capabilities, error) {
	var c Capabilities
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-version").Output()
	if err != nil {
		return c, err
	}
	if f := strings.Fields(string(out)); len(f) >= 3 && f[0] == "ffmpeg" && f[1] == "version" {
		c.Version = f[2]
	}
	enc, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-encoders").Output()
	if err != nil {
		return c, err
	}
	c.Encoders = listNames(enc, func(flags string) bool { return flags[0] == 'V' || flags[0] == 'A' })
	fil, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-filters").Output()
	if err != nil {
		return c, err
	}
	have := map[string]bool{}
	for _, n := range listNames(fil, func(string) bool { return true }) {
		have[n] = true
	}
	c.Filters = map[string]bool{}
	for _, f := range analysisFilters {
		c.Filters[f] = have[f]
	}
	c.VMAF, c.MSSSIM = have["libvmaf"], have["msssim"]
	return c, nil
}

// listNames reads the " FLAGS name description" rows of -encoders and
// -filters: flags are dots and letters only, which skips the legend.
func listNames(out []byte, keep func(flags string) bool) []string {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || len(f[0]) < 3 || f[1] == "=" || strings.Trim(f[0], ".ABCDFNSTVX|") != "" || !strings.Contains(f[0], ".") {
			continue
		}
		if keep(f[0]) {
			names = append(names, f[1])
		}
	}
	return names
}
