// Package certfile serves a TLS certificate from a PEM cert/key pair on disk
// and reloads it when the files change, so a renewed certificate (certbot,
// cert-manager, a rotated internal CA) takes effect without restarting
// the server and dropping every stream.
package certfile

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce lets a renewal finish writing both files before they are read.
const debounce = 200 * time.Millisecond

// Pair is a certificate and key file pair, loaded and watched.
type Pair struct {
	certFile, keyFile string
	log               *slog.Logger
	cur               atomic.Pointer[tls.Certificate]

	watcher *fsnotify.Watcher
	wg      sync.WaitGroup
	cancel  context.CancelFunc
}

// Load reads the pair once; an unreadable or mismatched pair is an error
// naming the files.
func Load(certFile, keyFile string, log *slog.Logger) (*Pair, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pair{certFile: certFile, keyFile: keyFile, log: log}
	if err := p.reload(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Pair) reload() error {
	c, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate %s / key %s: %w", p.certFile, p.keyFile, err)
	}
	p.cur.Store(&c)
	return nil
}

// Certificate returns the certificate in force (tls.Config.GetCertificate).
func (p *Pair) Certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) { return p.cur.Load(), nil }

// TLSConfig returns a server config that always serves the current
// certificate.
func (p *Pair) TLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: p.Certificate, MinVersion: tls.VersionTLS12}
}

// Watch reloads the pair whenever a file in their directories changes
// (renewals often replace files by renaming, so the directories are
// watched, not the files), until ctx ends or Close. A pair that fails to
// load (half-written) is logged and the previous certificate stays.
func (p *Pair) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("tls watch: %w", err)
	}
	dirs := map[string]bool{filepath.Dir(p.certFile): true, filepath.Dir(p.keyFile): true}
	for d := range dirs {
		if err := w.Add(d); err != nil {
			w.Close()
			return fmt.Errorf("tls watch %s: %w", d, err)
		}
	}
	p.watcher = w
	ctx, p.cancel = context.WithCancel(ctx)
	p.wg.Add(1)
	go p.run(ctx)
	return nil
}

func (p *Pair) run(ctx context.Context) {
	defer p.wg.Done()
	defer p.watcher.Close()
	names := map[string]bool{filepath.Clean(p.certFile): true, filepath.Clean(p.keyFile): true}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case ev, ok := <-p.watcher.Events:
			if !ok {
				return
			}
			if names[filepath.Clean(ev.Name)] || ev.Has(fsnotify.Create) {
				timer.Reset(debounce)
			}
		case err, ok := <-p.watcher.Errors:
			if !ok {
				return
			}
			p.log.Warn("tls certificate watch", "error", err)
		case <-timer.C:
			if err := p.reload(); err != nil {
				p.log.Error("tls certificate not reloaded; the previous one stays", "error", err)
				continue
			}
			p.log.Info("tls certificate reloaded", "cert", p.certFile)
		}
	}
}

// Close stops watching.
func (p *Pair) Close() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}
