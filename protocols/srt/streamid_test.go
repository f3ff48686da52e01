package srt

import (
	"errors"
	"strings"
	"testing"
)

func TestParseStreamID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want StreamID
		err  error
	}{
		{in: "publish:live/a", want: StreamID{Mode: ModePublish, Path: "live/a"}},
		{in: "read:live/a", want: StreamID{Mode: ModeRead, Path: "live/a"}},
		{in: "read:/live/a/", want: StreamID{Mode: ModeRead, Path: "live/a"}},
		{in: "publish:live/a:bob:s3cr:et", want: StreamID{Mode: ModePublish, Path: "live/a", User: "bob", Pass: "s3cr:et"}},
		{in: "read:cam?token=xyz", want: StreamID{Mode: ModeRead, Path: "cam", Query: "token=xyz"}},
		{in: "read:cam?token=xyz:u:p", want: StreamID{Mode: ModeRead, Path: "cam", Query: "token=xyz", User: "u", Pass: "p"}},
		{in: "#!::r=live/a,m=publish", want: StreamID{Mode: ModePublish, Path: "live/a"}},
		{in: "#!::r=live/a", want: StreamID{Mode: ModeRead, Path: "live/a"}},
		{in: "#!::m=request,r=/live/a,u=alice,s=123,t=stream,h=example.com,x=ignored",
			want: StreamID{Mode: ModeRead, Path: "live/a", User: "alice", Session: "123"}},
		{in: "#!::r=live/a,m=publish,u=bob,p=pw", want: StreamID{Mode: ModePublish, Path: "live/a", User: "bob", Pass: "pw"}},

		{in: "", err: ErrBadStreamID},
		{in: "live/a", err: ErrBadStreamID},
		{in: "publish:", err: ErrBadStreamID},
		{in: "publish:/", err: ErrBadStreamID},
		{in: "publish:a:user", err: ErrBadStreamID},
		{in: "publish:a::pass", err: ErrBadStreamID},
		{in: "play:live/a", err: ErrBadMode},
		{in: "#!::", err: ErrBadStreamID},
		{in: "#!::m=publish", err: ErrBadStreamID},
		{in: "#!::r=a,m=bidirectional", err: ErrBadMode},
		{in: "#!::r=a,t=file", err: ErrBadMode},
		{in: "#!::r=a,r=b", err: ErrBadStreamID},
		{in: "#!::r=a,junk", err: ErrBadStreamID},
		{in: "read:a\x00b", err: ErrBadStreamID},
	} {
		got, err := ParseStreamID(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("ParseStreamID(%q) = %+v, %v; want error %v", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseStreamID(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestStreamIDStringHidesPassword(t *testing.T) {
	id, err := ParseStreamID("publish:live/a:bob:hunter2")
	if err != nil {
		t.Fatal(err)
	}
	if s := id.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "live/a") {
		t.Errorf("String() = %q", s)
	}
}

// FuzzParseStreamID checks that any stream ID is either refused or gives a
// usable request: a non-empty path without control characters or edge
// slashes, and a known mode.
func FuzzParseStreamID(f *testing.F) {
	for _, s := range []string{"publish:live/a", "read:a:u:p", "read:a?x=y", "#!::r=a,m=publish,u=x", "#!::r=/a/,s=1,t=stream", "#!::,,="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseStreamID(s)
		if err != nil {
			if !errors.Is(err, ErrBadStreamID) && !errors.Is(err, ErrBadMode) {
				t.Fatalf("error %v wraps neither ErrBadStreamID nor ErrBadMode", err)
			}
			return
		}
		if id.Path == "" || strings.HasPrefix(id.Path, "/") || strings.HasSuffix(id.Path, "/") {
			t.Fatalf("path %q", id.Path)
		}
		if strings.ContainsFunc(id.Path, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("control character in path %q", id.Path)
		}
		if id.Mode != ModeRead && id.Mode != ModePublish {
			t.Fatalf("mode %d", id.Mode)
		}
	})
}

// TestStreamIDStringHidesTokens: a token in the stream ID's query is
// masked in the logged form.
func TestStreamIDStringHidesTokens(t *testing.T) {
	id, err := ParseStreamID("read:live/a?jwt=eyJsecret.x.y&lang=en")
	if err != nil {
		t.Fatal(err)
	}
	if s := id.String(); strings.Contains(s, "eyJsecret") || !strings.Contains(s, "lang=en") {
		t.Fatalf("String() = %q", s)
	}
	if s := redactStreamID("#!::r=live/a,p=hunter2,broken"); strings.Contains(s, "hunter2") {
		t.Fatalf("malformed stream ID logged as %q", s)
	}
}
