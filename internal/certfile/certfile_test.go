package certfile

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mps/internal/testutil"
)

func TestReloadOnChange(t *testing.T) {
	ca, err := NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := ca.WritePair(100, cf, kf); err != nil {
		t.Fatal(err)
	}
	p, err := Load(cf, kf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Watch(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Listener = tls.NewListener(srv.Listener, p.TLSConfig())
	srv.Start()
	defer srv.Close()
	url := strings.Replace(srv.URL, "http:", "https:", 1)
	serial := func() int64 {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}, DisableKeepAlives: true}}
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}
	if s := serial(); s != 100 {
		t.Fatalf("serial %d", s)
	}
	if err := ca.WritePair(101, cf, kf); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "renewed certificate served", func() bool { return serial() == 101 })

	if _, err := Load(cf, filepath.Join(dir, "missing.pem"), nil); err == nil {
		t.Fatal("missing key accepted")
	}
}
