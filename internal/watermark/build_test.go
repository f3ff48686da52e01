package watermark

import (
	"errors"
	"strings"
	"testing"
)

func TestBuildGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		t      Template
		filter string
		inputs []string
	}{
		{
			name:   "image top-right px",
			t:      Template{Type: TypeImage, Image: "/l/logo.png", Corner: TopRight, X: "10", Y: "20"},
			filter: "[1:v]format=rgba[v1_wm];[0:v][v1_wm]overlay=x=main_w-overlay_w-10:y=20[v1]",
			inputs: []string{"-i", "file:/l/logo.png"},
		},
		{
			name:   "image bottom-right percent, scaled, translucent",
			t:      Template{Type: TypeImage, Image: "l.png", Corner: "BottomRight", X: "5%", Y: "2.5%", Width: "10%", Opacity: 0.5},
			filter: "[1:v]format=rgba,colorchannelmixer=aa=0.5,scale=128:-1[v1_wm];[0:v][v1_wm]overlay=x=main_w-overlay_w-main_w*5/100:y=main_h-overlay_h-main_h*2.5/100[v1]",
			inputs: []string{"-i", "file:l.png"},
		},
		{
			name:   "image px width bottom-left",
			t:      Template{Type: TypeImage, Image: "l.png", Corner: BottomLeft, Width: "120"},
			filter: "[1:v]format=rgba,scale=120:-1[v1_wm];[0:v][v1_wm]overlay=x=0:y=main_h-overlay_h-0[v1]",
			inputs: []string{"-i", "file:l.png"},
		},
		{
			name:   "text with box and specials",
			t:      Template{Type: TypeText, Text: `It's 50% a:b, [x]; c\d`, Corner: BottomRight, X: "8", Y: "8", FontSize: 30, Box: true, Opacity: 0.8},
			filter: `[0:v]drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text=It\\\'s\\\ 50\\\\%\\\ a\\\:b\\\,\\\ \\\[x\\\]\\\;\\\ c\\\\\\\\d:fontsize=30:fontcolor=white:alpha=0.8:box=1:boxcolor=black@0.5:boxborderw=7:x=w-text_w-8:y=h-text_h-8[v1]`,
		},
		{
			name:   "text localtime",
			t:      Template{Type: TypeText, Text: "%{localtime:%H:%M:%S} %{timecode}", FontColor: "yellow@0.9", Font: "/f.ttf"},
			filter: `[0:v]drawtext=fontfile=/f.ttf:text=%{localtime\\\:%H\\\\\\\:%M\\\\\\\:%S}\\\ %{pts\\\:hms}:fontsize=24:fontcolor=yellow@0.9:x=0:y=0[v1]`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, in, err := Build(tc.t, Placement{In: "0:v", Out: "v1", InputIndex: 1, VideoWidth: 1280})
			if err != nil {
				t.Fatal(err)
			}
			if f != tc.filter {
				t.Errorf("filter\n got %s\nwant %s", f, tc.filter)
			}
			if strings.Join(in, " ") != strings.Join(tc.inputs, " ") {
				t.Errorf("inputs = %q, want %q", in, tc.inputs)
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	for _, tc := range []Template{
		{},
		{Type: "video"},
		{Type: TypeImage},
		{Type: TypeText},
		{Type: TypeText, Text: "a\nb"},
		{Type: TypeText, Text: "%{metadata:x}"},
		{Type: TypeText, Text: "%{localtime"},
		{Type: TypeText, Text: "x", FontColor: "red:box=1"},
		{Type: TypeImage, Image: "a.png", X: "10px"},
		{Type: TypeImage, Image: "a.png", Y: "-5"},
		{Type: TypeImage, Image: "a.png", Width: "150%"},
		{Type: TypeImage, Image: "a.png", Corner: "middle"},
		{Type: TypeImage, Image: "a.png", Opacity: 2},
	} {
		if _, _, err := Build(tc, Placement{In: "0:v", Out: "o", InputIndex: 1, VideoWidth: 640}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Build(%+v) = %v, want ErrInvalid", tc, err)
		}
	}
	if _, _, err := Build(Template{Type: TypeText, Text: "x"}, Placement{In: "0:v]", Out: "o"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad label accepted: %v", err)
	}
	if _, _, err := Build(Template{Type: TypeImage, Image: "a.png", Width: "10%"}, Placement{In: "0:v", Out: "o", InputIndex: 1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("percent width without the video width accepted: %v", err)
	}
	if err := (Template{Type: TypeImage, Image: "/nonexistent/logo.png"}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Validate of a missing file = %v, want ErrInvalid", err)
	}
	if err := (Template{Type: TypeText, Text: "ok"}).Validate(); err != nil {
		t.Errorf("Validate(text with default font) = %v", err)
	}
}

// avGetToken mirrors libavutil's av_get_token: what each of ffmpeg's two
// parsing levels does to a filter option value.
func avGetToken(s, term string) (tok, rest string) {
	var out []byte
	end := 0
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	for i < len(s) && !strings.ContainsRune(term, rune(s[i])) {
		c := s[i]
		i++
		switch {
		case c == '\\' && i < len(s):
			out = append(out, s[i])
			i++
			end = len(out)
		case c == '\'':
			for i < len(s) && s[i] != '\'' {
				out = append(out, s[i])
				i++
			}
			if i < len(s) {
				i++
				end = len(out)
			}
		default:
			out = append(out, c)
		}
	}
	for len(out) > end && strings.ContainsRune(" \n\t\r", rune(out[len(out)-1])) {
		out = out[:len(out)-1]
	}
	return string(out), s[i:]
}

func unescapeTwice(v string) (string, string) {
	graph, rest := avGetToken(v+"[out]", "[],;")
	opt, rest2 := avGetToken(graph+":next=1", ":")
	return opt, rest + "|" + rest2
}

func TestEscapeValueRoundTrips(t *testing.T) {
	for _, s := range []string{"", "plain", " lead and trail ", `a'b"c`, `x:y,z;w[q]=e\f`, `\\'\'`, "%{pts}", "tab\there"} {
		got, rest := unescapeTwice(escapeValue(s))
		if got != s || rest != "[out]|:next=1" {
			t.Errorf("escapeValue(%q) parses back as %q (rest %q)", s, got, rest)
		}
	}
}

func FuzzEscapeValue(f *testing.F) {
	for _, s := range []string{"", "a:b", `'\`, "[x];y,z", " % "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "\x00\r\n") {
			return
		}
		got, rest := unescapeTwice(escapeValue(s))
		if got != s || rest != "[out]|:next=1" {
			t.Fatalf("escapeValue(%q) parses back as %q (rest %q)", s, got, rest)
		}
	})
}

func FuzzBuildText(f *testing.F) {
	for _, s := range []string{"hello", "%{localtime}", "50%", "%{pts:hms}", `a\b`, "%{", "%{x:y}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		filter, _, err := Build(Template{Type: TypeText, Text: s}, Placement{In: "in", Out: "out"})
		if err != nil {
			return
		}
		// The fragment must stay one filter: the text cannot end the
		// chain or open another.
		body := strings.TrimSuffix(strings.TrimPrefix(filter, "[in]"), "[out]")
		opts, rest := avGetToken(strings.TrimPrefix(body, "drawtext="), "[],;")
		if rest != "" {
			t.Fatalf("text %q escapes its filter: rest %q", s, rest)
		}
		if !strings.Contains(opts, ":fontsize=24:") {
			t.Fatalf("text %q breaks the options: %q", s, opts)
		}
	})
}
