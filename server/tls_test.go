package server

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/certfile"
	"mps/internal/testutil"
)

// TestTLSListeners serves HTTPS, RTMPS and RTSPS from a certificate made at
// run time: curl and Go's client verify it against the test CA, ffmpeg
// publishes over RTMPS and plays over RTSPS and RTMPS, and after the files
// are replaced every listener serves the new certificate.
func TestTLSListeners(t *testing.T) {
	needFFmpeg(t)
	testutil.NeedCommand(t, "curl")
	ca, err := certfile.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cf, kf, caFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	if err := ca.WritePair(1, cf, kf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.RTSP.Enabled = true
	cfg.RTSP.Address = "127.0.0.1:0"
	cfg.RTSP.Transports = []string{"tcp"}
	cfg.HTTP.TLSFiles.CertFile, cfg.HTTP.TLSFiles.KeyFile = cf, kf
	cfg.RTMP.TLSFiles.CertFile, cfg.RTMP.TLSFiles.KeyFile = cf, kf
	cfg.RTSP.TLSFiles.CertFile, cfg.RTSP.TLSFiles.KeyFile = cf, kf
	s := startServer(t, cfg)

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}, DisableKeepAlives: true}}
	resp, err := client.Get("https://" + s.HTTPAddr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out, err := exec.Command("curl", "-sS", "--cacert", caFile, "https://"+s.HTTPAddr()+"/healthz").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"ok"`) {
		t.Fatalf("curl https: %v %s", err, out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := publishRTMP(t, ctx, testdata(t, "h264_aac_1s_gop.mp4"), "rtmps://"+s.RTMPAddr()+"/live/tls", true)
	defer pub.Process.Kill()
	testutil.WaitFor(t, 15*time.Second, "RTMPS publisher", func() bool { return s.Paths().Get("live/tls") != nil })
	for _, src := range []string{"rtsps://" + s.RTSPAddr() + "/live/tls", "rtmps://" + s.RTMPAddr() + "/live/tls"} {
		file := filepath.Join(t.TempDir(), "out.mkv")
		args := []string{"-i", src, "-t", "2", "-c", "copy", "-y", file}
		if strings.HasPrefix(src, "rtsps") {
			args = append([]string{"-rtsp_transport", "tcp"}, args...)
		}
		cmd, stderr := ffmpeg(ctx, args...)
		if err := cmd.Run(); err != nil {
			t.Fatalf("play %s: %v %s", src, err, stderr)
		}
		if n := countVideoPackets(t, file); n < 30 {
			t.Fatalf("play %s: %d video frames in 2 s", src, n)
		}
	}

	serials := func() [3]int64 {
		var got [3]int64
		for i, addr := range []string{s.HTTPAddr(), s.RTMPAddr(), s.RTSPAddr()} {
			c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1"})
			if err != nil {
				t.Fatalf("tls %s: %v", addr, err)
			}
			got[i] = c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
			c.Close()
		}
		return got
	}
	if got := serials(); got != [3]int64{1, 1, 1} {
		t.Fatalf("serials %v", got)
	}
	if err := ca.WritePair(2, cf, kf); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "renewed certificate on every listener", func() bool { return serials() == [3]int64{2, 2, 2} })
}

// countVideoPackets counts the video packets of a media file.
func countVideoPackets(t *testing.T, file string) int {
	t.Helper()
	b, err := exec.Command("ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	n := 0
	for _, c := range strings.TrimSpace(string(b)) {
		n = n*10 + int(c-'0')
	}
	return n
}
