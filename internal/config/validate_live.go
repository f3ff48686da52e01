package config

import (
	"fmt"
	"maps"
	"mps/internal/ssrf"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Checks of the live-processing (snapshots, transcode, watermarks) and
// task (nats, tasks, webhooks) sections. Maps are walked in name order so
// that the first error reported is always the same one.

// snapshots checks an effective snapshots section; prefix is "snapshots"
// or a rule's "paths[i].snapshots".
func (v *validator) snapshots(prefix string, s Snapshots) error {
	k := func(name string) string { return prefix + "." + name }
	if s.Interval <= 0 {
		return v.errorf(k("interval"), "must be greater than 0")
	}
	if s.Width < 0 || s.Width > maxPictureSide {
		return v.errorf(k("width"), "must be from 0 (source width) to %d, got %d", maxPictureSide, s.Width)
	}
	if s.Quality < 2 || s.Quality > 31 {
		return v.errorf(k("quality"), "must be from 2 (best) to 31 (ffmpeg -q:v), got %d", s.Quality)
	}
	if s.Keep < 1 {
		return v.errorf(k("keep"), "must be at least 1, got %d", s.Keep)
	}
	return nil
}

// maxPictureSide bounds picture sizes: beyond 8K no encoder we drive copes.
const maxPictureSide = 8192

// wordRE is what an encoder preset or profile may be: one word, passed to
// ffmpeg as an argument.
var wordRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)

// names lists a map's keys sorted, for deterministic walks and hints.
func names[T any](m map[string]T) []string { return slices.Sorted(maps.Keys(m)) }

// defined formats the names of m for an "unknown X" error.
func defined[T any](m map[string]T, section string) string {
	if len(m) == 0 {
		return "none are defined in " + section
	}
	return "defined: " + strings.Join(names(m), ", ")
}

// watermarkRef checks that a ladder or rung's watermark names an entry of
// the watermarks section.
func (v *validator) watermarkRef(c *Config, key, name string) error {
	if name == "" {
		return nil
	}
	if _, ok := c.Watermarks[name]; !ok {
		return v.errorf(key, "unknown watermark %q (%s)", name, defined(c.Watermarks, "watermarks"))
	}
	return nil
}

func (v *validator) transcode(c *Config) error {
	t := &c.Transcode
	if t.MaxTranscoders < 1 {
		return v.errorf("transcode.max_transcoders", "must be at least 1, got %d", t.MaxTranscoders)
	}
	for _, name := range names(t.Ladders) {
		if err := v.ladder(c, "transcode.ladders."+name, t.Ladders[name]); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) ladder(c *Config, prefix string, l Ladder) error {
	k := func(name string) string { return prefix + "." + name }
	if l.GOP <= 0 || l.GOP > MaxLadderGOP {
		return v.errorf(k("gop"), "must be greater than 0 and at most %s, got %s", MaxLadderGOP, l.GOP)
	}
	if err := v.watermarkRef(c, k("watermark"), l.Watermark); err != nil {
		return err
	}
	if len(l.Rungs) == 0 {
		return v.errorf(k("rungs"), "a ladder needs at least one rung")
	}
	for i, r := range l.Rungs {
		if err := v.rung(c, fmt.Sprintf("%s[%d]", k("rungs"), i), r); err != nil {
			return err
		}
		if j := slices.IndexFunc(l.Rungs, func(o Rung) bool { return o.Name == r.Name }); j != i {
			return v.errorf(fmt.Sprintf("%s[%d].name", k("rungs"), i), "duplicate rung name %q (also rungs[%d])", r.Name, j)
		}
	}
	return nil
}

func (v *validator) rung(c *Config, prefix string, r Rung) error {
	k := func(name string) string { return prefix + "." + name }
	// The rendition is published as PATH/NAME, so the name is one path
	// element.
	if err := ValidatePathName(r.Name); err != nil || strings.Contains(r.Name, "/") || len(r.Name) > 64 {
		return v.errorf(k("name"), "invalid rung name %q: use 1 to 64 letters, digits, _ . ~ - (one path element)", r.Name)
	}
	for _, s := range []struct {
		key string
		val int
	}{{"width", r.Width}, {"height", r.Height}} {
		if s.val < 0 || s.val > maxPictureSide {
			return v.errorf(k(s.key), "must be from 0 (follow the source) to %d, got %d", maxPictureSide, s.val)
		}
	}
	for _, b := range []struct {
		key string
		val Bitrate
	}{{"video_bitrate", r.VideoBitrate}, {"max_bitrate", r.MaxBitrate}, {"audio_bitrate", r.AudioBitrate}} {
		if b.val < 0 {
			return v.errorf(k(b.key), "must not be negative")
		}
	}
	if r.MaxBitrate > 0 && r.MaxBitrate < r.VideoBitrate {
		return v.errorf(v.pick(k("max_bitrate"), k("video_bitrate")), "max_bitrate %s must not be below video_bitrate %s", r.MaxBitrate, r.VideoBitrate)
	}
	if r.FPS < 0 || r.FPS > 240 {
		return v.errorf(k("fps"), "must be from 0 (source rate) to 240, got %v", r.FPS)
	}
	if err := v.oneOf(k("codec"), r.Codec, CodecH264, CodecH265, CodecSource); err != nil {
		return err
	}
	for _, w := range []struct{ key, val string }{{"preset", r.Preset}, {"profile", r.Profile}} {
		if w.val != "" && !wordRE.MatchString(w.val) {
			return v.errorf(k(w.key), "invalid value %q: one word of letters, digits and _", w.val)
		}
	}
	if err := v.oneOf(k("audio_codec"), r.AudioCodec, AudioCodecAAC, AudioCodecOpus, AudioCodecNone, AudioCodecCopy); err != nil {
		return err
	}
	if err := v.rungROI(k("roi"), r); err != nil {
		return err
	}
	return v.watermarkRef(c, k("watermark"), r.Watermark)
}

// rungROI checks a rung's roi option: faces on, an h264 rung, a qoffset
// that favours the faces and a sensible sampling interval.
func (v *validator) rungROI(prefix string, r Rung) error {
	if r.ROI == nil {
		return nil
	}
	k := func(name string) string { return prefix + "." + name }
	if r.Codec != CodecH264 && r.Codec != "" {
		return v.errorf(prefix, "needs an h264 rung (x264 regions of interest), not codec %q", r.Codec)
	}
	if r.Preset == "ultrafast" {
		return v.errorf(v.pick(strings.TrimSuffix(prefix, ".roi")+".preset", prefix), "roi needs x264's adaptive quantisation, which preset ultrafast turns off: use superfast or slower")
	}
	if !r.ROI.Faces {
		return v.errorf(v.pick(k("faces"), prefix), "faces must be true: faces are the only regions a live rung finds")
	}
	if q := r.ROI.QOffset; q < -1 || q > 0 {
		return v.errorf(k("qoffset"), "must be from -1 to 0 (0 means %v; negative gives the faces more bits), got %v", DefaultROIQOffset, q)
	}
	if s := r.ROI.SampleInterval; s != 0 && (s < MinROISampleInterval || s > MaxROISampleInterval) {
		return v.errorf(k("sample_interval"), "must be from %s to %s (0 means %s), got %s", MinROISampleInterval, MaxROISampleInterval, DefaultROISampleInterval, s)
	}
	return nil
}

var (
	// lengthRE is a watermark offset or width: pixels or percent.
	lengthRE = regexp.MustCompile(`^(\d{1,5}(?:\.\d+)?)(%?)$`)
	// colorRE is an ffmpeg colour: a name, #RRGGBB[AA] or 0xRRGGBB[AA],
	// optionally @alpha.
	colorRE = regexp.MustCompile(`^(?:[A-Za-z]{1,32}|#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?|0x[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?)(?:@(?:0(?:\.\d+)?|1(?:\.0*)?))?$`)
)

func checkLength(s string) error {
	if s == "" {
		return nil
	}
	m := lengthRE.FindStringSubmatch(s)
	if m == nil {
		return fmt.Errorf("invalid value %q: want pixels (\"10\") or percent (\"5%%\")", s)
	}
	if m[2] == "%" {
		var f float64
		fmt.Sscan(m[1], &f)
		if f > 100 {
			return fmt.Errorf("invalid value %q: over 100%%", s)
		}
	}
	return nil
}

func (v *validator) watermarks(c *Config) error {
	for _, name := range names(c.Watermarks) {
		if err := v.watermark("watermarks."+name, c.Watermarks[name]); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) watermark(prefix string, w Watermark) error {
	k := func(name string) string { return prefix + "." + name }
	switch w.Type {
	case WatermarkImage:
		if strings.TrimSpace(w.Image) == "" {
			return v.errorf(v.pick(k("image"), k("type")), "an image watermark needs an image file")
		}
	case WatermarkText:
		if w.Text == "" {
			return v.errorf(v.pick(k("text"), k("type")), "a text watermark needs text")
		}
		if len(w.Text) > 1024 || strings.ContainsAny(w.Text, "\x00\n\r") {
			return v.errorf(k("text"), "must be one line of at most 1024 bytes")
		}
	default:
		return v.oneOf(k("type"), w.Type, WatermarkImage, WatermarkText)
	}
	if w.Corner != "" { // "" is TopLeft, for configs built in code
		if err := v.oneOf(k("corner"), w.Corner, CornerTopLeft, CornerTopRight, CornerBottomLeft, CornerBottomRight); err != nil {
			return err
		}
	}
	for _, l := range []struct{ key, val string }{{"x", w.X}, {"y", w.Y}, {"width", w.Width}} {
		if err := checkLength(l.val); err != nil {
			return v.wrap(k(l.key), err)
		}
	}
	if !(w.Opacity > 0 && w.Opacity <= 1) {
		return v.errorf(k("opacity"), "must be greater than 0 and at most 1, got %v", w.Opacity)
	}
	if w.FontSize < 0 || w.FontSize > 1000 {
		return v.errorf(k("font_size"), "must be from 0 (default) to 1000, got %d", w.FontSize)
	}
	for _, cl := range []struct{ key, val string }{{"font_color", w.FontColor}, {"box_color", w.BoxColor}} {
		if cl.val != "" && !colorRE.MatchString(cl.val) {
			return v.errorf(k(cl.key), "invalid colour %q: want a name, #RRGGBB or 0xRRGGBB, optionally @ALPHA", cl.val)
		}
	}
	return nil
}

func (v *validator) nats(n NATS) error {
	if n.URL != "" {
		for u := range strings.SplitSeq(n.URL, ",") {
			if err := checkNATSURL(strings.TrimSpace(u)); err != nil {
				return v.wrap("nats.url", err)
			}
		}
	}
	if n.Listen != "" {
		if err := v.address("nats.listen", n.Listen); err != nil {
			return err
		}
	}
	if strings.TrimSpace(n.StoreDir) == "" {
		return v.errorf("nats.store_dir", "must not be empty")
	}
	return nil
}

func checkNATSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", s, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Errorf("invalid URL %q: want nats://, tls://, ws:// or wss://", s)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("invalid URL %q: missing host", s)
	}
	if p := u.Port(); p != "" {
		if _, err := parsePort(p); err != nil {
			return fmt.Errorf("invalid URL %q: %w", s, err)
		}
	}
	return nil
}

func (v *validator) tasks(t Tasks) error {
	if t.Concurrency < 1 {
		return v.errorf("tasks.concurrency", "must be at least 1, got %d", t.Concurrency)
	}
	if t.UploadLimit <= 0 {
		return v.errorf("tasks.upload_limit", "must be greater than 0")
	}
	for i, r := range t.InputRoots {
		if strings.TrimSpace(r) == "" {
			return v.errorf(fmt.Sprintf("tasks.input_roots[%d]", i), "must not be empty")
		}
	}
	if strings.TrimSpace(t.OutputDir) == "" {
		return v.errorf("tasks.output_dir", "must not be empty")
	}
	for i, a := range t.URLAllowlist {
		if _, err := ssrf.New(ssrf.Options{Allow: []string{a}}); err != nil {
			return v.errorf(fmt.Sprintf("tasks.url_allowlist[%d]", i), "%v", err)
		}
	}
	return nil
}

// eventRE is an event type name as webhooks filter on (stream.published).
var eventRE = regexp.MustCompile(`^[a-z0-9_.*-]{1,64}$`)

func (v *validator) webhooks(hooks []Webhook) error {
	for i, w := range hooks {
		p := fmt.Sprintf("webhooks[%d]", i)
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return v.errorf(v.pick(p+".url", p), "invalid URL %q: want http:// or https://", w.URL)
		}
		for j, e := range w.Events {
			ek := fmt.Sprintf("%s.events[%d]", p, j)
			if !eventRE.MatchString(e) {
				return v.errorf(ek, "invalid event type %q", e)
			}
			if slices.Index(w.Events, e) != j {
				return v.errorf(ek, "duplicate event type %q", e)
			}
		}
	}
	return nil
}

// ruleLive checks a rule's transcode reference and snapshots override.
func (v *validator) ruleLive(c *Config, r *PathRule, res ResolvedRule, p string) error {
	if r.Transcode != "" {
		if _, ok := c.Transcode.Ladders[r.Transcode]; !ok {
			return v.errorf(p+".transcode", "unknown ladder %q (%s)", r.Transcode, defined(c.Transcode.Ladders, "transcode.ladders"))
		}
	}
	if err := v.liveSubtitles(p+".subtitles", r.Subtitles); err != nil {
		return err
	}
	if r.Highlights != nil {
		if err := v.highlights(p+".highlights", res.Highlights); err != nil {
			return err
		}
	}
	if r.Snapshots != nil {
		return v.snapshots(p+".snapshots", res.Snapshots)
	}
	return nil
}

// highlights checks a rule's live highlights section (with defaults).
func (v *validator) highlights(prefix string, h LiveHighlights) error {
	k := func(name string) string { return prefix + "." + name }
	switch {
	case h.Window.D() < time.Minute || h.Window.D() > 24*time.Hour:
		return v.errorf(k("window"), "must be from 1m to 24h, got %s", h.Window)
	case h.Top < 1 || h.Top > 100:
		return v.errorf(k("top"), "must be from 1 to 100, got %d", h.Top)
	case h.MinSeconds < 1:
		return v.errorf(k("min_seconds"), "must be at least 1, got %g", h.MinSeconds)
	case h.MaxSeconds < h.MinSeconds || h.MaxSeconds > 300:
		return v.errorf(k("max_seconds"), "must be from min_seconds (%g) to 300, got %g", h.MinSeconds, h.MaxSeconds)
	}
	return nil
}
