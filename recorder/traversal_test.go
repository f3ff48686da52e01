package recorder

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPathTraversalRefused(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "recordings")
	const secretName = "2020-01-01_00-00-00-000000.mp4" // a valid segment name
	secret := []byte("SECRET-OUTSIDE-THE-ROOT")
	for _, f := range []string{filepath.Join(base, secretName), filepath.Join(base, "etc", secretName)} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, secret, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A stray file inside the root that the index does not know.
	stray := filepath.Join(root, "live/cam1", secretName)
	if err := os.MkdirAll(filepath.Dir(stray), 0o755); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, Config{Dir: root}, nil)
	if err := os.WriteFile(stray, secret, 0o644); err != nil {
		t.Fatal(err)
	}

	paths := []string{"..", "../etc", "live/../..", "live/cam1/../../..", "/etc", "live//cam1", ".", "live/./cam1", "live\\..\\..", "live/cam1\x00", "%2e%2e"}
	names := []string{"../" + secretName, "../../" + secretName, "..%2F" + secretName, "/" + secretName, "..\\" + secretName, secretName}
	var urls []string
	for _, p := range paths {
		for _, suffix := range []string{"", "/start", "/stop", "/segments", "/get?start=2020-01-01T00:00:00Z&duration=10s", "/segments/" + secretName} {
			urls = append(urls, APIPrefix+"/"+p+suffix)
		}
		urls = append(urls, HLSPrefix+p+"/index.m3u8", HLSPrefix+p+"/"+secretName)
	}
	for _, n := range names {
		urls = append(urls, APIPrefix+"/live/cam1/segments/"+n, HLSPrefix+"live/cam1/"+n, APIPrefix+"/etc/segments/"+n)
	}
	check := func(method, u string, code int, body []byte) {
		t.Helper()
		if strings.Contains(string(body), string(secret)) {
			t.Errorf("%s %q served the file outside the index", method, u)
		}
		if code != http.StatusBadRequest && code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
			t.Errorf("%s %q: status %d, want 400 or 404", method, u, code)
		}
	}
	// Straight into the handlers, with the decoded paths they would see.
	for _, u := range urls {
		for _, method := range []string{http.MethodGet, http.MethodDelete, http.MethodPost} {
			path, query, _ := strings.Cut(u, "?")
			req := httptest.NewRequest(method, "http://x/", nil)
			req.URL.Path, req.URL.RawQuery = path, query
			rec := httptest.NewRecorder()
			if strings.HasPrefix(path, HLSPrefix) {
				m.HLSHandler().ServeHTTP(rec, req)
			} else {
				m.Handler().ServeHTTP(rec, req)
			}
			check(method, u, rec.Code, rec.Body.Bytes())
		}
	}
	// And through a real server, percent-encoded.
	srv := serve(t, m)
	for _, u := range urls {
		for _, method := range []string{http.MethodGet, http.MethodDelete} {
			enc := strings.NewReplacer("..", "%2e%2e", "\x00", "%00", "\\", "%5c").Replace(u)
			req, err := http.NewRequest(method, srv.URL+enc, nil)
			if err != nil {
				continue // the client refuses it: fine
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Request.URL.Path != req.URL.Path {
				// The mux redirected to the cleaned path, which stays
				// inside the API; only the secret must not leak.
				if strings.Contains(string(body), string(secret)) || strings.Contains(resp.Request.URL.Path, "..") {
					t.Errorf("%s %q redirected to %q and leaked", method, enc, resp.Request.URL.Path)
				}
				continue
			}
			check(method, enc, resp.StatusCode, body)
		}
	}
	for _, f := range []string{filepath.Join(base, secretName), filepath.Join(base, "etc", secretName), stray} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s was deleted through the API", f)
		}
	}
	if st := m.Stats("live/cam1"); st.Override != "" {
		t.Errorf("an override was set through a bad path: %+v", st)
	}
}
