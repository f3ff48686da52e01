package redact

import "testing"

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"rtsp://cam.example/stream", "rtsp://cam.example/stream"},
		{"rtsp://admin:hunter2@cam.example/s", "rtsp://admin:xxxxx@cam.example/s"},
		{"rtsp://admin@cam.example/s", "rtsp://admin@cam.example/s"},
		{"srt://h:1?streamid=read:a&passphrase=longsecret1", "srt://h:1?passphrase=xxxxx&streamid=read%3Aa"},
		{"https://h/hook?token=abc&x=1", "https://h/hook?token=xxxxx&x=1"},
		{"https://h/f?X-Amz-Signature=abc", "https://h/f?X-Amz-Signature=xxxxx"},
		{"http://[::1:bad", "(unparsable URL)"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := URL(tc.in); got != tc.want {
				t.Fatalf("URL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
