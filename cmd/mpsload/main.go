// Command mpsload puts a running MPS server under a publish/play load made of
// real ffmpeg clients and reports the server's CPU use, read from /proc, so
// capacity figures come from the same clients users run.
//
//	mpsload -pid $(pidof mps) -publishers 10 -readers 2 -duration 30s
//
// Each publisher loops a sample file in real time (-re -c copy) to its own
// path; each reader copies its path to the null muxer. Protocols: rtmp, rtsp,
// srt for publishing and reading (-pub, -read; -read takes a comma list that
// is spread over the readers of each path).
//
// `mpsload soak` starts its own server and runs a soak test instead (see
// soak.go):
//
//	mpsload soak -mps bin/mps -t 10m -publishers 20 -readers 200 -go
//
// -scenario fanout replaces the ffmpeg readers with cheap Go ones, so one
// machine can hold thousands (RTMP, RTSP, SRT, and LL-HLS players that
// follow blocking reloads and fetch parts), spreads -readers over
// -publishers paths, and checks each reader's frame rate (see scenarios.go
// and llhls.go; cmd/mpsload/benchload.sh runs the standard set):
//
//	mpsload -pid $(pidof mps) -scenario fanout -publishers 1 -readers 200 -read rtmp -file 600k.mp4
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "soak" {
		os.Exit(runSoak(os.Args[2:]))
	}
	os.Exit(runMeasure())
}

// runMeasure is the default mode: ffmpeg publishers and readers against a
// running server whose CPU and memory it samples; it returns the exit code.
func runMeasure() int {
	pid := flag.Int("pid", 0, "server process id to measure (required)")
	host := flag.String("host", "127.0.0.1", "server host")
	file := flag.String("file", "testdata/h264_aac_1s_gop.mp4", "media file each publisher loops")
	pubs := flag.Int("publishers", 10, "number of publishers (one path each)")
	readers := flag.Int("readers", 2, "readers per path")
	pubProto := flag.String("pub", "rtmp", "publish protocol: rtmp, rtsp or srt")
	readProto := flag.String("read", "rtmp", "comma list of read protocols, spread over each path's readers")
	dur := flag.Duration("duration", 30*time.Second, "measurement duration (after a 5 s warm-up)")
	rtmpPort := flag.Int("rtmp-port", 1935, "RTMP port")
	rtspPort := flag.Int("rtsp-port", 8554, "RTSP port")
	srtPort := flag.Int("srt-port", 8890, "SRT port")
	httpPort := flag.Int("http-port", 8080, "HTTP port (LL-HLS readers of -scenario fanout)")
	api := flag.String("api", "", "server HTTP base URL (e.g. http://127.0.0.1:8080): report the readers it counts")
	scenario := flag.String("scenario", "", "fanout: -publishers RTMP publishers of -file to -readers Go readers in all (-read protocols: rtmp, rtsp, srt, hls for LL-HLS players), frame rate checked against -fps")
	fps := flag.Float64("fps", 30, "frame rate of -file, for -scenario")
	flag.Parse()
	if *pid == 0 {
		fmt.Fprintln(os.Stderr, "mpsload: -pid is required")
		return 2
	}
	u := urls{host: *host, rtmp: *rtmpPort, rtsp: *rtspPort, srt: *srtPort, http: *httpPort}
	ctx, cancel := context.WithTimeout(context.Background(), *dur+20*time.Second)
	defer cancel()
	if *scenario == "fanout" {
		return fanout{urls: u, pid: *pid, file: *file, fps: *fps, publishers: *pubs, readers: *readers,
			protos: strings.Split(*readProto, ","), dur: *dur}.run(ctx)
	}

	var wg sync.WaitGroup
	start := func(args []string) {
		cmd := exec.CommandContext(ctx, "ffmpeg", append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, args...)...)
		cmd.WaitDelay = time.Second
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "mpsload: ffmpeg:", err)
			os.Exit(1)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = cmd.Wait() }()
	}
	for i := 0; i < *pubs; i++ {
		start(append([]string{"-re", "-stream_loop", "-1", "-i", *file, "-c", "copy"}, u.publish(*pubProto, fmt.Sprintf("load/s%d", i))...))
	}
	time.Sleep(2 * time.Second)
	rp := strings.Split(*readProto, ",")
	for i := 0; i < *pubs; i++ {
		for j := 0; j < *readers; j++ {
			start(append(u.read(rp[j%len(rp)], fmt.Sprintf("load/s%d", i)), "-c", "copy", "-f", "null", "-"))
		}
	}
	time.Sleep(5 * time.Second)
	t0, c0, err := cpuTicks(*pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpsload:", err)
		return 1
	}
	time.Sleep(*dur)
	if *api != "" {
		fmt.Println("readers attached (API):", countReaders(*api))
	}
	t1, c1, err := cpuTicks(*pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpsload:", err)
		return 1
	}
	rss, _ := rssKiB(*pid)
	const hz = 100.0 // USER_HZ on Linux
	cpu := float64(c1-c0) / hz / t1.Sub(t0).Seconds()
	fmt.Printf("publishers=%d (%s) readers/path=%d (%s) duration=%s server_cpu=%.1f%% of one core rss=%d MiB\n",
		*pubs, *pubProto, *readers, *readProto, dur, cpu*100, rss/1024)
	cancel()
	wg.Wait()
	return 0
}

type urls struct {
	host                  string
	rtmp, rtsp, srt, http int
}

func (u urls) publish(proto, path string) []string {
	switch proto {
	case "rtsp":
		return []string{"-f", "rtsp", "-rtsp_transport", "tcp", fmt.Sprintf("rtsp://%s:%d/%s", u.host, u.rtsp, path)}
	case "srt":
		return []string{"-f", "mpegts", fmt.Sprintf("srt://%s:%d?streamid=publish:%s&pkt_size=1316", u.host, u.srt, path)}
	default:
		return []string{"-f", "flv", fmt.Sprintf("rtmp://%s:%d/%s", u.host, u.rtmp, path)}
	}
}

func (u urls) read(proto, path string) []string {
	switch proto {
	case "rtsp":
		return []string{"-rtsp_transport", "tcp", "-i", fmt.Sprintf("rtsp://%s:%d/%s", u.host, u.rtsp, path)}
	case "srt":
		return []string{"-i", fmt.Sprintf("srt://%s:%d?streamid=read:%s", u.host, u.srt, path)}
	default:
		return []string{"-i", fmt.Sprintf("rtmp://%s:%d/%s", u.host, u.rtmp, path)}
	}
}

// cpuTicks returns the time and utime+stime of pid in clock ticks.
func cpuTicks(pid int) (time.Time, uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("read /proc stat: %w", err)
	}
	s := string(b)
	// fields after the command name, which is in parentheses and may hold spaces
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return time.Now(), ut + st, nil
}

func rssKiB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			return strconv.Atoi(f[1])
		}
	}
	return 0, fmt.Errorf("no VmRSS")
}

// countReaders sums the readers of every stream listed by the API, by
// protocol, to confirm the load is really attached.
func countReaders(base string) map[string]int {
	out := map[string]int{}
	resp, err := http.Get(base + "/api/v1/streams")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	var list struct {
		Streams []struct{ Readers map[string]int }
	}
	if json.NewDecoder(resp.Body).Decode(&list) != nil {
		return out
	}
	for _, s := range list.Streams {
		for p, n := range s.Readers {
			out[p] += n
		}
	}
	return out
}
