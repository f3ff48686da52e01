package tasks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mps/internal/redact"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"mps/internal/vod"

	"mps/internal/storage"
)

const uploadPrefix = "upload:"

// realPath is the absolute, symlink-free form of p.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// within reports whether p is root or below it.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// localPath resolves a path input and checks it is a regular file under an
// allowed root (after following symlinks).
func (s *Service) localPath(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", badRequest("input path %q must be absolute", p)
	}
	real, err := realPath(p)
	if err != nil {
		return "", badRequest("input %q: no such file", p)
	}
	ok := false
	for _, r := range s.roots {
		if within(r, real) {
			ok = true
			break
		}
	}
	if !ok {
		return "", badRequest("input %q is outside the allowed input directories", p)
	}
	fi, err := os.Stat(real)
	if err != nil || !fi.Mode().IsRegular() {
		return "", badRequest("input %q is not a regular file", p)
	}
	return real, mediaOnly(real)
}

// mediaOnly refuses an input that is a playlist or list of other files
// (which would make ffmpeg read files outside the allowed roots).
func mediaOnly(p string) error {
	if err := vod.CheckMediaFile(p); err != nil {
		if errors.Is(err, vod.ErrReferenceFile) {
			return badRequest("%v", err)
		}
		return err
	}
	return nil
}

// uploadPath finds the file of an upload id.
func (s *Service) uploadPath(id string) (string, error) {
	if !validID(id) {
		return "", badRequest("bad upload id %q", id)
	}
	dir := filepath.Join(s.cfg.DataDir, "uploads", id)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", badRequest("unknown upload %q", id)
	}
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".part") {
			p := filepath.Join(dir, e.Name())
			return p, mediaOnly(p)
		}
	}
	return "", badRequest("upload %q is incomplete", id)
}

// checkInput validates an input at submission time.
func (s *Service) checkInput(in string) error {
	switch {
	case in == "":
		return badRequest("no input")
	case strings.HasPrefix(in, uploadPrefix):
		_, err := s.uploadPath(strings.TrimPrefix(in, uploadPrefix))
		return err
	case strings.HasPrefix(in, "http://"), strings.HasPrefix(in, "https://"):
		u, err := url.Parse(in)
		if err != nil || u.Host == "" {
			return badRequest("bad input URL %q", in)
		}
		return nil
	case strings.HasPrefix(in, "s3://"):
		target, _, ok := storage.ParseURL(in)
		if !ok {
			return badRequest("bad storage input %q (want s3://TARGET/KEY)", in)
		}
		if _, ok := s.cfg.Storage.Get(target); !ok {
			return badRequest("no storage target %q", target)
		}
		return nil
	case strings.Contains(in, "://"):
		return badRequest("input URL scheme not supported (http, https and s3://TARGET/KEY only)")
	default:
		_, err := s.localPath(in)
		return err
	}
}

// resolveInput turns a task input into a local file at run time,
// downloading URLs; cleanup removes a download.
func (s *Service) resolveInput(ctx context.Context, t *Task) (string, func(), error) {
	nop := func() {}
	in := t.Input
	switch {
	case strings.HasPrefix(in, uploadPrefix):
		p, err := s.uploadPath(strings.TrimPrefix(in, uploadPrefix))
		return p, nop, err
	case strings.HasPrefix(in, "http://"), strings.HasPrefix(in, "https://"), strings.HasPrefix(in, "s3://"):
		dir := filepath.Join(s.cfg.DataDir, "downloads", t.ID)
		fetch := s.download
		if strings.HasPrefix(in, "s3://") {
			fetch = s.fetchObject
		}
		p, err := fetch(ctx, in, dir)
		if err == nil {
			err = mediaOnly(p)
		}
		cleanup := func() { _ = os.RemoveAll(dir) }
		if err != nil {
			cleanup()
			return "", nop, err
		}
		return p, cleanup, nil
	default:
		p, err := s.localPath(in)
		return p, nop, err
	}
}

// ErrTooLarge is returned (wrapped) when an upload or download exceeds
// its configured limit.
var ErrTooLarge = errors.New("file too large")

// download fetches u into dir, bounded by DownloadLimit and
// DownloadTimeout.
func (s *Service) download(ctx context.Context, u, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DownloadTimeout)
	defer cancel()
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("download: %w", redact.Error(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download: %s", resp.Status)
	}
	if resp.ContentLength > s.cfg.DownloadLimit {
		return "", fmt.Errorf("download: %w (%d bytes > limit %d)", ErrTooLarge, resp.ContentLength, s.cfg.DownloadLimit)
	}
	name := safeName(path.Base(req.URL.Path))
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, s.cfg.DownloadLimit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	if n > s.cfg.DownloadLimit {
		return "", fmt.Errorf("download: %w (limit %d bytes)", ErrTooLarge, s.cfg.DownloadLimit)
	}
	return p, nil
}

// safeName keeps a client-supplied file name harmless.
func safeName(n string) string {
	n = filepath.Base(strings.ReplaceAll(n, "\\", "/"))
	b := []byte(n)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			b[i] = '_'
		}
	}
	n = string(b)
	if len(n) > 100 {
		n = n[len(n)-100:]
	}
	n = strings.TrimLeft(n, ".")
	if n == "" {
		return "input"
	}
	return n
}
