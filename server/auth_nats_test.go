package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"mps/internal/config"
)

// TestDoorsNATS: when the embedded NATS server listens, a client needs
// what an API write needs — here the user ops — while the node's own
// connection keeps working (tasks are served). No credentials or a wrong
// password get NATS's own "Authorization Violation".
func TestDoorsNATS(t *testing.T) {
	cfg := testConfig(t)
	cfg.NATS.Listen = "127.0.0.1:0"
	cfg.Auth.Users = []config.AuthUser{{User: "ops", Pass: "pw", Actions: []string{"api"}}}
	s := startServer(t, cfg)
	url := s.jobs.NATSURL()
	if url == "" {
		t.Fatal("embedded NATS is not listening")
	}
	for name, opts := range map[string][]nats.Option{
		"no credentials": nil,
		"wrong password": {nats.UserInfo("ops", "nope")},
	} {
		t.Run(name, func(t *testing.T) {
			nc, err := nats.Connect(url, append(opts, nats.Timeout(5*time.Second), nats.NoReconnect())...)
			if err == nil {
				nc.Close()
				t.Fatal("connected")
			}
			if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
				t.Fatalf("got %v, want an authorization violation", err)
			}
		})
	}
	nc, err := nats.Connect(url, nats.UserInfo("ops", "pw"), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.StreamInfo("MPS_TASKS"); err != nil {
		t.Fatalf("task stream through the door: %v", err)
	}
	if code, body := httpDo(t, nil, "GET", "http://"+s.HTTPAddr()+"/api/v1/tasks", "ops", "pw", nil); code != 200 {
		t.Fatalf("the node's own task service: %d %s", code, body)
	}
}
