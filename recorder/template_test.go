package recorder

import (
	"testing"
	"time"
)

func TestTemplateRoundTrip(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	if _, err := newTemplate("rec/%path/%Y/%m/%d/%H-%M-%S-%f", loc); err == nil {
		t.Fatal("time fields in the directory part were accepted")
	}
	tpl, err := newTemplate("rec/%path/%Y-%m-%d_%H-%M-%S-%f", loc)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 890123000, loc)
	rel := tpl.render("live/cam1", at, FormatMPEGTS)
	if rel != "rec/live/cam1/2026-03-04_05-06-07-890123.ts" {
		t.Fatalf("render: %s", rel)
	}
	p, ok := tpl.streamPath("rec/live/cam1")
	if !ok || p != "live/cam1" {
		t.Fatalf("streamPath: %q %v", p, ok)
	}
	got, format, ok := tpl.parseFile("2026-03-04_05-06-07-890123.ts")
	if !ok || !got.Equal(at) || format != FormatMPEGTS {
		t.Fatalf("parse: %v %s %v", got, format, ok)
	}
	for _, bad := range []string{"2026-03-04_05-06-07-890123.mkv", "../2026-03-04_05-06-07-890123.ts", "2026-03-04_05-06-07.ts", ""} {
		if _, _, ok := tpl.parseFile(bad); ok {
			t.Errorf("parsed %q", bad)
		}
	}
	for _, bad := range []string{"%Y-%m-%d", "%path/%Y", "../%path/%Y-%m-%d_%H-%M-%S", "%path/%path/%Y-%m-%d_%H-%M-%S", "%path/%Y-%m-%d_%H-%M-%S-%q"} {
		if _, err := newTemplate(bad, loc); err == nil {
			t.Errorf("template %q accepted", bad)
		}
	}
}

func FuzzSegmentName(f *testing.F) {
	tpl, err := newTemplate(DefaultPathTemplate, time.UTC)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("2026-03-04_05-06-07-890123.mp4")
	f.Add("9999-99-99_99-99-99-999999.ts")
	f.Add("../x.mp4")
	f.Fuzz(func(t *testing.T, name string) {
		at, format, ok := tpl.parseFile(name)
		if !ok {
			return
		}
		// Whatever parses renders back into the same directory with no
		// escape from it.
		rel := tpl.render("live/cam1", at, format)
		if len(rel) < len("live/cam1/") || rel[:len("live/cam1/")] != "live/cam1/" {
			t.Fatalf("%q renders outside its directory: %q", name, rel)
		}
	})
}

func FuzzAPIPath(f *testing.F) {
	for _, s := range []string{"live/cam1/segments/x.mp4", "a/segments/segments", "x/start", "../get", "segments/", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rest string) {
		path, action, name := splitAPIPath(rest)
		if action == "segment" && (name == "" || len(name) > len(rest)) {
			t.Fatalf("%q: segment action without a name", rest)
		}
		_ = path
	})
}
