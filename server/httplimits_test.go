package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"mps/internal/config"
	"mps/internal/testutil"
)

// hardenedConfig lowers the HTTP time-outs and caps so a test sees them act.
func hardenedConfig(t *testing.T) *config.Config {
	cfg := testConfig(t)
	cfg.HTTP.ReadHeaderTimeout = config.Duration(time.Second)
	cfg.HTTP.ReadTimeout = config.Duration(time.Second)
	cfg.HTTP.IdleTimeout = config.Duration(time.Second)
	cfg.HTTP.MaxConnectionsPerIP = 10
	cfg.HTTP.MaxConnections = 40
	return cfg
}

// dialFrom opens a TCP connection to addr from a loopback source address,
// so one test plays clients on several machines.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// healthzFrom GETs /healthz over a fresh connection from src.
func healthzFrom(t *testing.T, src, addr string) int {
	t.Helper()
	c := dialFrom(t, src, addr)
	defer c.Close() // do not hold a slot of src's per-IP cap
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("healthz from %s: %v", src, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// closedByServer reports whether the server has closed c (a read ends in
// EOF or a reset rather than a time-out).
func closedByServer(c net.Conn, br *bufio.Reader) bool {
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err := br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return err != nil
}

// TestHTTPIdleConnections holds more idle keep-alive connections than one
// address may have: the extra ones are refused with a 503, /healthz still
// answers another client, and the idle ones are closed after idle_timeout.
func TestHTTPIdleConnections(t *testing.T) {
	s := startServer(t, hardenedConfig(t))
	addr := s.HTTPAddr()
	type held struct {
		c  net.Conn
		br *bufio.Reader
	}
	var idle []held
	refused := 0
	for range 15 {
		c := dialFrom(t, "127.0.0.1", addr)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			idle = append(idle, held{c, br})
		case http.StatusServiceUnavailable:
			if !strings.Contains(string(body), "too many connections") {
				t.Fatalf("refusal body %q", body)
			}
			refused++
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if len(idle) != 10 || refused != 5 {
		t.Fatalf("%d served, %d refused; want 10 and 5 (max_connections_per_ip 10)", len(idle), refused)
	}
	if code := healthzFrom(t, "127.0.0.2", addr); code != http.StatusOK {
		t.Fatalf("healthz from another client = %d while the first holds its cap", code)
	}
	testutil.WaitFor(t, 10*time.Second, "idle keep-alive connections closed", func() bool {
		for _, h := range idle {
			if !closedByServer(h.c, h.br) {
				return false
			}
		}
		return true
	})
	if code := healthzFrom(t, "127.0.0.1", addr); code != http.StatusOK {
		t.Fatalf("healthz after the idle connections closed = %d", code)
	}
}

// TestHTTPSlowloris sends request headers one byte at a time, slower than
// read_header_timeout allows: the server drops the connection while
// another client is served normally.
func TestHTTPSlowloris(t *testing.T) {
	s := startServer(t, hardenedConfig(t))
	addr := s.HTTPAddr()
	c := dialFrom(t, "127.0.0.1", addr)
	br := bufio.NewReader(c)
	req := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 1000) + "\r\n\r\n"
	dropped := false
	for i := 0; i < len(req) && !dropped; i++ {
		if _, err := c.Write([]byte{req[i]}); err != nil {
			dropped = true
			break
		}
		if healthzFrom(t, "127.0.0.2", addr) != http.StatusOK {
			t.Fatal("another client was not served during the slow one")
		}
		dropped = closedByServer(c, br) // waits 100 ms: 10 bytes/s at most
		if i > 300 {
			t.Fatalf("slow header still open after %d bytes", i)
		}
	}
	if !dropped {
		t.Fatal("the whole slow header was accepted")
	}
}

// TestHTTPSlowBody uploads a body at a few bytes per second: the server
// ends the request instead of waiting for it, and a normal upload works.
func TestHTTPSlowBody(t *testing.T) {
	s := startServer(t, hardenedConfig(t))
	addr := s.HTTPAddr()
	c := dialFrom(t, "127.0.0.1", addr)
	br := bufio.NewReader(c)
	fmt.Fprintf(c, "POST /api/v1/uploads?name=slow.mp4 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
	cut := false
	for i := 0; i < 300 && !cut; i++ {
		if _, err := c.Write([]byte{0}); err != nil {
			cut = true
			break
		}
		cut = closedByServer(c, br)
	}
	if !cut {
		t.Fatal("a 10-byte/s upload body was still being read after 300 bytes")
	}
	resp, err := http.Post("http://"+addr+"/api/v1/uploads?name=ok.mp4", "application/octet-stream", strings.NewReader(strings.Repeat("x", 3<<20)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("a normal 3 MiB upload = %d", resp.StatusCode)
	}
}

// TestHTTPBodyLimit posts a JSON body over http.max_body_size to the task
// API and gets 413.
func TestHTTPBodyLimit(t *testing.T) {
	s := startServer(t, hardenedConfig(t))
	big := `{"input":"` + strings.Repeat("a", 2<<20) + `"}`
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(big)
		if chunked {
			body = io.MultiReader(body) // unknown length: sent chunked
		}
		resp, err := http.Post("http://"+s.HTTPAddr()+"/api/v1/tasks", "application/json", body)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if chunked && resp.StatusCode/100 == 4 || resp.StatusCode == http.StatusRequestEntityTooLarge {
			continue
		}
		t.Fatalf("chunked=%v: %d %s, want 413", chunked, resp.StatusCode, b)
	}
}
