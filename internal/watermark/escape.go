package watermark

import (
	"fmt"
	"strings"
)

// expansions are the drawtext %{…} functions a template may use. Others
// (%{metadata}, %{expr}…) are refused: a template is configuration, not a
// way to evaluate arbitrary expressions.
var expansions = map[string]bool{"localtime": true, "gmtime": true, "pts": true, "frame_num": true, "n": true}

// drawtextText converts template text to drawtext's own syntax (expansion
// "normal"): backslashes and stray percent signs are escaped so they print
// literally, and the allowed %{…} expansions are kept, with the colons of
// their arguments escaped.
func drawtextText(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("%w: unterminated %%{ in text %q", ErrInvalid, s)
			}
			body := s[i+2 : i+end]
			name, arg, hasArg := strings.Cut(body, ":")
			if name == "timecode" && !hasArg {
				name, arg, hasArg = "pts", "hms", true
			}
			if !expansions[name] {
				return "", fmt.Errorf("%w: text expansion %%{%s} not supported (use localtime, gmtime, pts, frame_num, timecode)", ErrInvalid, name)
			}
			b.WriteString("%{")
			b.WriteString(name)
			if hasArg {
				b.WriteByte(':')
				b.WriteString(strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(arg))
			}
			b.WriteByte('}')
			i += end
		case c == '%' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// escapeValue escapes an option value for the two parsers it goes through
// inside -filter_complex: the filtergraph parser, then the filter's option
// parser. Each strips one level of backslash escapes (av_get_token), so
// every special character is backslash-escaped for the inner level and the
// result escaped again for the outer one.
func escapeValue(s string) string { return escapeLevel(escapeLevel(s)) }

// escapeLevel backslash-escapes, for one av_get_token pass, every
// character that would end or quote a token, or be trimmed as whitespace.
func escapeLevel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', '\'', ':', ',', ';', '[', ']', '=', ' ', '\t':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
