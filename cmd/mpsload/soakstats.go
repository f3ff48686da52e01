package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// sample is one measurement of the server process.
type sample struct {
	at               time.Duration
	rssMiB, gor, fds int
	frames           int
}

func (s sample) String() string {
	return fmt.Sprintf("rss=%d MiB goroutines=%d fds=%d", s.rssMiB, s.gor, s.fds)
}

func (s *soakServer) sample() sample {
	pid := s.cmd.Process.Pid
	var sm sample
	if kib, err := rssKiB(pid); err == nil {
		sm.rssMiB = kib / 1024
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		sm.fds = len(ents)
	}
	sm.gor = goroutines(s.http)
	return sm
}

// goroutines reads go_goroutines from the server's /metrics.
func goroutines(base string) int {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return -1
}

// observe samples every 5 s for d and prints each sample.
func (s *soakServer) observe(ctx context.Context, d time.Duration, readers []*reader) []sample {
	start := time.Now()
	var out []sample
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for time.Since(start) < d {
		select {
		case <-s.done:
			fmt.Println("soak: the server exited")
			return out
		case <-tick.C:
		}
		sm := s.sample()
		sm.at = time.Since(start).Round(time.Second)
		for _, r := range readers {
			sm.frames += r.count()
		}
		out = append(out, sm)
		fmt.Printf("soak: t=%s %s frames=%d\n", sm.at, sm, sm.frames)
	}
	return out
}

// settle waits up to 20 s for the server to shed what the clients held.
func (s *soakServer) settle(base sample) sample {
	var sm sample
	for range 20 {
		time.Sleep(time.Second)
		sm = s.sample()
		if sm.fds <= base.fds+10 && sm.gor <= base.gor+20 {
			break
		}
	}
	return sm
}

// verdict fails the soak when RSS, goroutines or fds keep growing (the
// last third of the run well above the middle third), when the server did
// not give back what the clients held, or when a well-behaved reader got
// fewer than 90% of the frames published at 30 fps once started.
func verdict(base sample, ss []sample, after sample, readers []*reader, o soakOpts) error {
	var errs []string
	if len(ss) < 6 {
		return fmt.Errorf("only %d samples: the run was cut short", len(ss))
	}
	mid, last := ss[len(ss)/3:2*len(ss)/3], ss[2*len(ss)/3:]
	avg := func(xs []sample, f func(sample) int) float64 {
		t := 0
		for _, x := range xs {
			t += f(x)
		}
		return float64(t) / float64(len(xs))
	}
	for _, m := range []struct {
		name   string
		f      func(sample) int
		factor float64
		slack  float64
	}{
		{"rss MiB", func(x sample) int { return x.rssMiB }, 1.3, 30},
		{"goroutines", func(x sample) int { return x.gor }, 1.3, 100},
		{"fds", func(x sample) int { return x.fds }, 1.3, 50},
	} {
		a, b := avg(mid, m.f), avg(last, m.f)
		fmt.Printf("soak: %s: middle third %.0f, last third %.0f\n", m.name, a, b)
		if b > a*m.factor+m.slack {
			errs = append(errs, fmt.Sprintf("%s grew from %.0f to %.0f", m.name, a, b))
		}
	}
	if after.fds > base.fds+20 || after.gor > base.gor+50 {
		errs = append(errs, fmt.Sprintf("after the clients left: %s, idle before: %s", after, base))
	}
	perProto := map[string][]int{}
	for _, r := range readers {
		perProto[r.proto] = append(perProto[r.proto], r.count())
	}
	for p, ns := range perProto {
		lo, sum := ns[0], 0
		for _, n := range ns {
			lo, sum = min(lo, n), sum+n
		}
		fmt.Printf("soak: %s readers: %d, frames per reader: mean %d, least %d (%.1f fps)\n",
			p, len(ns), sum/len(ns), lo, float64(lo)/o.dur.Seconds())
	}
	for i, r := range readers {
		n := r.count()
		// readers start within seconds; HLS starts a few segments behind
		want := int(0.9 * 30 * (o.dur.Seconds() - 15))
		if n < want || r.restarts > 0 {
			errs = append(errs, fmt.Sprintf("reader %d (%s %s): %d frames in %s (want at least %d), %d restarts %s", i, r.proto, r.path, n, o.dur, want, r.restarts, r.lastErr))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
