package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// soakOpts are the soak command's flags.
type soakOpts struct {
	mps, file              string
	dur                    time.Duration
	pubs, readers          int
	churn, malformed, keep bool
	goReaders              bool
}

// runSoak starts a server, puts it under publishers, readers, churn and
// malformed clients for the given time while sampling its RSS, goroutines,
// open files and the frames each reader gets, and returns 1 when any of
// them grows without bound or a well-behaved reader loses frames.
func runSoak(args []string) int {
	fs := flag.NewFlagSet("soak", flag.ExitOnError)
	var o soakOpts
	fs.StringVar(&o.mps, "mps", "bin/mps", "server binary")
	fs.StringVar(&o.file, "file", "testdata/h264_aac_1s_gop.mp4", "media file (30 fps) each publisher loops")
	fs.DurationVar(&o.dur, "t", time.Minute, "soak duration")
	fs.IntVar(&o.pubs, "publishers", 3, "publishers (RTMP and SRT alternately), one path each")
	fs.IntVar(&o.readers, "readers", 20, "well-behaved readers in total (RTMP, RTSP, HLS in turn)")
	fs.BoolVar(&o.churn, "churn", true, "a short-lived reader joins every second")
	fs.BoolVar(&o.malformed, "malformed", true, "malformed clients every second on every listener")
	fs.BoolVar(&o.keep, "keep", false, "keep the server's data directory and log")
	fs.BoolVar(&o.goReaders, "go", false, "well-behaved readers are Go clients (RTMP, RTSP, HLS, WHEP, SRT in turn) instead of ffmpeg (RTMP, RTSP, HLS)")
	_ = fs.Parse(args)
	if err := soak(o); err != nil {
		fmt.Fprintln(os.Stderr, "soak: FAIL:", err)
		return 1
	}
	fmt.Println("soak: PASS")
	return 0
}

func soak(o soakOpts) error {
	dir, err := os.MkdirTemp("", "mps-soak-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	srv, err := startSoakServer(o.mps, dir)
	if err != nil {
		return err
	}
	defer srv.stop()
	base := srv.sample()
	fmt.Printf("soak: server pid %d, %s; idle: %s\n", srv.cmd.Process.Pid, srv.addrs, base)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	run := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	for i := range o.pubs {
		run(func() { srv.publish(ctx, i, o.file) })
	}
	if err := srv.waitStreams(o.pubs, 20*time.Second); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	readers := make([]*reader, o.readers)
	for i := range readers {
		readers[i] = &reader{proto: []string{"rtmp", "rtsp", "hls"}[i%3], path: fmt.Sprintf("soak/s%d", i%o.pubs)}
		r := readers[i]
		if o.goReaders {
			r.proto = goProtos[i%len(goProtos)]
			run(func() { srv.goRead(ctx, r) })
			if i%20 == 19 {
				sleepCtx(ctx, 200*time.Millisecond) // do not land every handshake at once
			}
			continue
		}
		run(func() { srv.read(ctx, r) })
	}
	if o.churn {
		run(func() { srv.churn(ctx, o.pubs) })
	}
	if o.malformed {
		run(func() { srv.malformed(ctx) })
	}
	samples := srv.observe(ctx, o.dur, readers)
	cancel()
	wg.Wait()
	after := srv.settle(base)
	fmt.Printf("soak: after the clients left: %s\n", after)
	return verdict(base, samples, after, readers, o)
}

// soakServer is the server process under test.
type soakServer struct {
	cmd   *exec.Cmd
	http  string
	addrs map[string]string
	log   *os.File
	done  chan struct{}
}

// soakConfig binds every listener to a free loopback port; RTSP offers TCP
// only so several soaks can run on one machine.
const soakConfig = `log: {level: info}
http: {address: "127.0.0.1:0", max_connections_per_ip: 4096}
rtmp: {address: "127.0.0.1:0", max_connections_per_ip: 4096}
rtsp: {address: "127.0.0.1:0", transports: [tcp], max_connections_per_ip: 4096}
srt: {address: "127.0.0.1:0", max_connections_per_ip: 4096}
webrtc: {enabled: true, ice_udp_address: "127.0.0.1:0", ice_tcp_address: ""}
hls: {variant: lowLatency, always_on: true}
storage: {data_dir: %q}
`

func startSoakServer(bin, dir string) (*soakServer, error) {
	cfgFile := filepath.Join(dir, "mps.yaml")
	if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf(soakConfig, filepath.Join(dir, "data"))), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "-c", cfgFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &soakServer{cmd: cmd, log: logf, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.findHTTP(logf.Name()); err != nil {
		s.stop()
		return nil, err
	}
	var c struct{ Listeners map[string]string }
	if err := getJSON(s.http+"/api/v1/config", &c); err != nil {
		s.stop()
		return nil, err
	}
	s.addrs = c.Listeners
	return s, nil
}

// findHTTP reads the HTTP address the server logged (port 0 was asked).
func (s *soakServer) findHTTP(logFile string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(logFile)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "protocol=http") && strings.Contains(l, "address=") {
				a := l[strings.Index(l, "address=")+len("address="):]
				s.http = "http://" + strings.Fields(a)[0]
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("server exited: %s", b)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("server did not log its HTTP address")
}

func (s *soakServer) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Close()
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// waitStreams waits until n streams are published.
func (s *soakServer) waitStreams(n int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		var l struct{ Streams []json.RawMessage }
		if getJSON(s.http+"/api/v1/streams", &l) == nil && len(l.Streams) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d publishers came up", len(l.Streams), n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ffmpeg runs ffmpeg until ctx ends; progress, when set, gets each
// frame count ffmpeg reports.
func ffmpegRun(ctx context.Context, progress func(int), args ...string) error {
	a := append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, args...)
	if progress != nil {
		a = append([]string{"-progress", "pipe:1", "-stats_period", "1"}, a...)
	}
	cmd := exec.CommandContext(ctx, "ffmpeg", a...)
	cmd.WaitDelay = 2 * time.Second
	var out io.ReadCloser
	if progress != nil {
		var err error
		if out, err = cmd.StdoutPipe(); err != nil {
			return err
		}
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	if out != nil {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "frame="); ok {
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					progress(n)
				}
			}
		}
	}
	return cmd.Wait()
}
