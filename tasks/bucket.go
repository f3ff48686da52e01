package tasks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"

	"github.com/nats-io/nats.go"

	"mps/internal/config"
	"mps/internal/storage"
)

// startBucket watches a scheme's storage target. Each new object fires the
// scheme with the input s3://TARGET/KEY and the object version as session
// id, so the watcher's "fire, then record" and the session de-duplication
// together neither miss nor repeat an object across restarts.
func (s *Service) startBucket(sc config.Scheme) error {
	b := sc.Trigger.Bucket
	tg, ok := s.cfg.Storage.Get(b.Target)
	if !ok {
		return fmt.Errorf("bucket trigger: no storage target %q", b.Target)
	}
	state := filepath.Join(s.cfg.DataDir, "bucketwatch", sc.Name+".jsonl")
	w, err := storage.NewWatcher(tg, storage.WatchConfig{Prefix: b.Prefix, Glob: b.Glob, Interval: b.Interval.D(), StateFile: state},
		func(o storage.NewObject) error { return s.fireBucket(sc.Name, o) }, s.log.With("scheme", sc.Name))
	if err != nil {
		return err
	}
	s.buckets[sc.Name] = w
	if b.NATSSubject != "" {
		sub, err := s.nc.Subscribe(b.NATSSubject, func(m *nats.Msg) { s.bucketEvent(sc.Name, m.Data) })
		if err != nil {
			return fmt.Errorf("bucket trigger: subscribe %s: %w", b.NATSSubject, err)
		}
		s.subs = append(s.subs, sub)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		w.Run(s.ctx)
	}()
	return nil
}

// fireBucket submits the scheme for one new object. A disabled scheme
// counts the object as handled: switching the scheme on later does not
// replay what arrived meanwhile, like a watch folder.
func (s *Service) fireBucket(scheme string, o storage.NewObject) error {
	sc := s.schemes[scheme]
	if !s.schemeEnabled(s.ctx, sc) {
		return nil
	}
	t, created, err := s.Submit(s.ctx, Request{Input: "s3://" + o.Target + "/" + o.Key, Scheme: scheme, SessionID: o.ID()})
	if err != nil {
		if errors.Is(err, ErrSchemeDisabled) {
			return nil
		}
		return err
	}
	if created {
		s.log.Info("bucket object arrived", "scheme", scheme, "target", o.Target, "key", o.Key, "task", t.ID)
	}
	return nil
}

// bucketEvent handles a store notification (webhook body or NATS message)
// for a scheme: each created key is confirmed with the store and fired.
func (s *Service) bucketEvent(scheme string, body []byte) error {
	w, ok := s.buckets[scheme]
	if !ok {
		return fmt.Errorf("bucket trigger of scheme %q: %w", scheme, ErrNotFound)
	}
	keys, err := storage.EventKeys(body)
	if err != nil {
		return badRequest("%v", err)
	}
	for _, k := range keys {
		if err := w.Notify(s.ctx, k); err != nil {
			s.log.Warn("bucket event", "scheme", scheme, "key", k, "error", err)
			return err
		}
	}
	return nil
}

// handleBucketEvents accepts a store's S3 event notification for a
// scheme with a bucket trigger (MinIO's webhook target, SeaweedFS's).
func (s *Service) handleBucketEvents(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if err := s.bucketEvent(r.PathValue("name"), body); err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// fetchObject copies an s3://TARGET/KEY input into dir, bounded by the
// download limit, and returns the local file.
func (s *Service) fetchObject(ctx context.Context, in, dir string) (string, error) {
	target, key, _ := storage.ParseURL(in)
	tg, ok := s.cfg.Storage.Get(target)
	if !ok {
		return "", badRequest("no storage target %q", target)
	}
	r, obj, err := tg.Open(ctx, key)
	if err != nil {
		return "", fmt.Errorf("input %s: %w", in, err)
	}
	defer r.Close()
	if obj.Size > s.cfg.DownloadLimit {
		return "", fmt.Errorf("input %s: %d bytes: %w", in, obj.Size, ErrTooLarge)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(dir, safeName(path.Base(key)))
	f, err := os.Create(p)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, io.LimitReader(r, s.cfg.DownloadLimit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("input %s: %w", in, err)
	}
	return p, nil
}
