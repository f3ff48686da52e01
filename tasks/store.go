package tasks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The task store heals itself. A monitor writes a health key to the store
// every HealthEvery (a write, because NATS's file store keeps a failed
// write's error — say, files exhausted while opening a block — and refuses
// every later write while reads still work); while it fails the service reports itself degraded
// (Health, GET /api/v1/tasks/health), store calls fail fast with
// ErrStoreUnavailable (HTTP 503) instead of hanging, and the monitor
// repairs what it owns, backing off from HealthEvery to 30 s: it restarts
// the embedded server if it stopped, turns its JetStream back on if the
// server switched it off (as it does after some storage errors), restarts
// it when writes keep failing on a running server (which reloads its
// stores and clears a kept write error), re-creates the stream, consumers
// and bucket, and restarts the task index watch. The
// client connection reconnects by itself (to the restarted embedded server
// or to the external ones).

// ErrStoreUnavailable is returned (wrapped) while the task store cannot be
// reached; the service is recovering it (HTTP 503).
var ErrStoreUnavailable = errors.New("task store unavailable")

// Health is the state of the task store as last seen by the monitor.
type Health struct {
	// Status is "ok" or "degraded".
	Status string `json:"status"`
	// Error is the last store error while degraded.
	Error string `json:"error,omitempty"`
	// Since is when the current status began.
	Since time.Time `json:"since"`
	// Recoveries counts the times the store came back after failing.
	Recoveries int `json:"recoveries"`
}

// Health reports the task store's state.
func (s *Service) Health() Health {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	return s.health
}

func (s *Service) setHealth(err error) {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	now := time.Now().UTC()
	switch {
	case err == nil && s.health.Status != "ok":
		s.health = Health{Status: "ok", Since: now, Recoveries: s.health.Recoveries + 1}
	case err != nil && s.health.Status != "degraded":
		s.health = Health{Status: "degraded", Error: err.Error(), Since: now, Recoveries: s.health.Recoveries}
	case err != nil:
		s.health.Error = err.Error()
	}
}

// storeErr marks a store failure seen by a caller: it wraps
// ErrStoreUnavailable when the store is down and wakes the monitor.
func (s *Service) storeErr(err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := context.Cause(s.ctx); ctxErr != nil {
		return err
	}
	if s.Health().Status == "degraded" || errors.Is(err, context.DeadlineExceeded) || isConnErr(err) {
		select {
		case s.storeCheck <- struct{}{}:
		default:
		}
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	return err
}

// isConnErr reports whether err says the store could not be reached or
// did not answer (as opposed to a refusal such as a revision mismatch).
func isConnErr(err error) bool {
	for _, target := range []error{nats.ErrNoResponders, nats.ErrConnectionClosed, nats.ErrTimeout,
		nats.ErrDisconnected, nats.ErrConnectionReconnecting, jetstream.ErrNoStreamResponse,
		jetstream.ErrJetStreamNotEnabled, jetstream.ErrJetStreamNotEnabledForAccount} {
		if errors.Is(err, target) {
			return true
		}
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"no responders", "no response", "connection closed", "not connected", "timeout", "jetstream not enabled"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// storeLoop is the store monitor.
func (s *Service) storeLoop() {
	defer s.wg.Done()
	wait := s.cfg.HealthEvery
	failures := 0
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(wait):
		case <-s.storeCheck:
		}
		err := s.pingStore()
		if err == nil {
			if s.Health().Status != "ok" {
				s.recovered()
			}
			wait, failures = s.cfg.HealthEvery, 0
			continue
		}
		failures++
		if s.ctx.Err() != nil {
			return
		}
		if s.Health().Status == "ok" {
			s.log.Error("task store failing; recovering", "error", err)
		}
		s.setHealth(err)
		if rerr := s.repairStore(failures); rerr != nil {
			s.log.Warn("task store repair", "error", rerr)
		}
		wait = min(max(wait*2, s.cfg.HealthEvery), 30*time.Second)
	}
}

// pingStore writes this node's health key.
func (s *Service) pingStore() error {
	ctx, cancel := context.WithTimeout(s.ctx, max(s.cfg.HealthEvery, time.Second))
	defer cancel()
	_, err := s.kv.Put(ctx, "health."+sanitize(s.node), []byte(time.Now().UTC().Format(time.RFC3339Nano)))
	return err
}

// repairStore restarts or re-enables the embedded server as needed, then
// makes sure the stream, consumers and bucket exist. failures counts the
// failed checks in a row.
func (s *Service) repairStore(failures int) error {
	if ns := s.embeddedServer(); ns != nil {
		switch {
		case !ns.Running() || failures >= 3:
			s.log.Warn("embedded nats stopped or failing; restarting it", "failures", failures)
			ns.Shutdown()
			ns.WaitForShutdown()
			if err := s.startEmbedded(); err != nil {
				return err
			}
		case !ns.JetStreamEnabled():
			s.log.Warn("embedded nats switched JetStream off; switching it on")
			if err := ns.EnableJetStream(&server.JetStreamConfig{StoreDir: s.cfg.NATS.StoreDir}); err != nil {
				return fmt.Errorf("enable jetstream: %w", err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	return s.ensureStore(ctx)
}

// recovered marks the store healthy again and restarts the index watch
// (its consumer may have died with the server).
func (s *Service) recovered() {
	if err := s.startIndexWatch(); err != nil {
		s.log.Warn("task index watch", "error", err)
		return
	}
	s.setHealth(nil)
	s.log.Info("task store recovered", "recoveries", s.Health().Recoveries)
}
