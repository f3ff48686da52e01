package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// CallbackConfig configures the HTTP callback method.
type CallbackConfig struct {
	// URL receives POST {action, path, protocol, ip, user, pass, token,
	// query, id} as JSON; a 2xx answer allows.
	URL string
	// Timeout bounds one call (default 5s); a call that times out denies.
	Timeout time.Duration
	// Cache keeps a decision for this long (0: ask every time), keyed by
	// everything in the body except id.
	Cache time.Duration
}

// callbackBody is what the callback receives.
type callbackBody struct {
	Action   Action `json:"action"`
	Write    bool   `json:"write,omitempty"`
	Path     string `json:"path"`
	Protocol string `json:"protocol"`
	IP       string `json:"ip"`
	User     string `json:"user"`
	Pass     string `json:"pass"`
	Token    string `json:"token"`
	Query    string `json:"query"`
	ID       string `json:"id"`
}

// CallbackAnswer is the optional JSON body of a 2xx answer. Allow=false
// denies even with a 2xx status; TTL (seconds) overrides the cache time of
// this decision.
type CallbackAnswer struct {
	Allow *bool `json:"allow"`
	TTL   *int  `json:"ttl"`
}

// ParseCallbackAnswer reads a callback's answer. The status decides unless
// a 2xx body says {"allow": false}; a body that is not JSON is ignored. It
// returns the decision and how long to cache it (negative: the default).
func ParseCallbackAnswer(status int, body []byte) (allow bool, ttl time.Duration) {
	allow = status >= 200 && status < 300
	ttl = -1
	var a CallbackAnswer
	if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &a) != nil {
		return allow, ttl
	}
	if allow && a.Allow != nil && !*a.Allow {
		allow = false
	}
	if a.TTL != nil && *a.TTL >= 0 && *a.TTL <= 86400 {
		ttl = time.Duration(*a.TTL) * time.Second
	}
	return allow, ttl
}

type cached struct {
	allow bool
	until time.Time
}

// callbackMethod asks an HTTP endpoint.
type callbackMethod struct {
	cfg    CallbackConfig
	client *http.Client

	mu    sync.Mutex
	cache map[[32]byte]cached
}

const callbackCacheSize = 4096

func newCallback(cfg CallbackConfig, client *http.Client) *callbackMethod {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	return &callbackMethod{cfg: cfg, client: client, cache: make(map[[32]byte]cached)}
}

func (m *callbackMethod) check(ctx context.Context, r *Request) (bool, error) {
	body := callbackBody{Action: r.Action, Write: r.Write, Path: r.Path, Protocol: r.Protocol, IP: hostOnly(r.IP),
		User: r.User, Pass: r.Pass, Token: r.Token, Query: r.Query}
	keyJSON, _ := json.Marshal(body)
	key := sha256.Sum256(keyJSON)
	now := time.Now()
	m.mu.Lock()
	if c, ok := m.cache[key]; ok && now.Before(c.until) {
		m.mu.Unlock()
		return c.allow, nil
	}
	m.mu.Unlock()

	body.ID = r.ID
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.cfg.URL, bytes.NewReader(b))
	if err != nil {
		return false, fmt.Errorf("auth callback: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := m.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("auth callback: %w", err) // time-outs deny, uncached
	}
	ans, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	_ = res.Body.Close()
	allow, ttl := ParseCallbackAnswer(res.StatusCode, ans)
	if ttl < 0 {
		ttl = m.cfg.Cache
	}
	if ttl > 0 {
		m.mu.Lock()
		if len(m.cache) >= callbackCacheSize {
			m.cache = make(map[[32]byte]cached)
		}
		m.cache[key] = cached{allow: allow, until: now.Add(ttl)}
		m.mu.Unlock()
	}
	return allow, nil
}
