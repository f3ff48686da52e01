package netlimit

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mps/internal/testutil"
)

// dialFrom connects to addr from a given loopback address, so a test can
// play several clients.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestListenerLimits(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Wrap(raw, Limits{Max: 4, PerIP: 2, Refuse: HTTPRefusal, Name: "test"})
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	addr := raw.Addr().String()
	a1, a2 := dialFrom(t, "127.0.0.1", addr), dialFrom(t, "127.0.0.1", addr)
	_, _ = a1, a2
	got := []net.Conn{<-accepted, <-accepted}
	// A third from the same IP is refused with a 503 and the reason.
	c := dialFrom(t, "127.0.0.1", addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), "from your address") {
		t.Fatalf("refusal = %d %q", resp.StatusCode, body)
	}
	// Other addresses still get in, up to the total.
	dialFrom(t, "127.0.0.2", addr)
	dialFrom(t, "127.0.0.3", addr)
	got = append(got, <-accepted, <-accepted)
	c = dialFrom(t, "127.0.0.4", addr)
	resp, err = http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("over total: %v", resp.Status)
	}
	if ln.Refused() != 2 {
		t.Fatalf("refused = %d", ln.Refused())
	}
	// Closing a connection frees its slot.
	got[0].Close()
	got[0].Close()
	testutil.WaitFor(t, 2*time.Second, "slot freed", func() bool {
		total, from := ln.Open(netip.MustParseAddr("127.0.0.1"))
		return total == 3 && from == 1
	})
	dialFrom(t, "127.0.0.1", addr)
	<-accepted
}

func TestWriteTimeout(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Wrap(raw, Limits{WriteTimeout: 300 * time.Millisecond})
	defer ln.Close()
	_ = dialFrom(t, "127.0.0.1", raw.Addr().String()) // never reads
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1<<20)
	var werr error
	for range 100 {
		if _, werr = c.Write(buf); werr != nil {
			break
		}
	}
	var ne net.Error
	if werr == nil || !(errors.As(werr, &ne) && ne.Timeout()) {
		t.Fatalf("write to a peer that never reads: %v, want a time-out", werr)
	}
}

func TestCounter(t *testing.T) {
	c := NewCounter(Limits{Max: 2, PerIP: 1})
	a := &net.UDPAddr{IP: net.ParseIP("10.0.0.1"), Port: 1}
	b := &net.UDPAddr{IP: net.ParseIP("10.0.0.2"), Port: 1}
	ra, err := c.Acquire(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Acquire(a); !errors.Is(err, ErrLimit) {
		t.Fatalf("second from a: %v", err)
	}
	if _, err := c.Acquire(b); err != nil {
		t.Fatal(err)
	}
	ra()
	ra()
	if _, err := c.Acquire(a); err != nil {
		t.Fatalf("after release: %v", err)
	}
}
