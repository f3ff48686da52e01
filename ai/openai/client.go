// Package openai speaks the OpenAI-compatible HTTP API that external AI
// engines share (whisper.cpp's server, faster-whisper servers, vLLM,
// llama.cpp's server, hosted APIs): audio transcriptions, chat completions
// and moderations. One Client serves one configured provider
// (config.AIProvider) and bounds its concurrency and time per request, so a
// slow or failing endpoint fails the operation that asked, with the
// endpoint's own message, and nothing else.
package openai

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"mps/internal/config"
)

// Client calls one OpenAI-compatible endpoint.
type Client struct {
	base    string
	model   string
	key     string
	timeout time.Duration
	http    *http.Client
	slots   chan struct{}
}

// New makes a client for p. hc carries the transport (the SSRF guard's,
// in the server); nil uses http.DefaultClient. The API key is read from
// the environment variable p.APIKeyEnv now.
func New(p config.AIProvider, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	timeout := p.Timeout.D()
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	n := p.Concurrency
	if n <= 0 {
		n = 2
	}
	c := &Client{
		base: strings.TrimRight(p.BaseURL, "/"), model: p.Model,
		timeout: timeout, http: hc, slots: make(chan struct{}, n),
	}
	if p.APIKeyEnv != "" {
		c.key = os.Getenv(p.APIKeyEnv)
	}
	return c
}

// Model is the model name the client sends.
func (c *Client) Model() string { return c.model }

// do sends req (whose URL is relative to the base, like
// "/v1/chat/completions") with the key and the time-out, waiting for a
// free slot first, and returns the body of a 2xx answer. Any other answer
// becomes an error carrying the endpoint's status and message.
func (c *Client) do(ctx context.Context, req *http.Request) ([]byte, error) {
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req = req.WithContext(ctx)
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return nil, fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, msg)
	}
	return body, nil
}

// url is the full address of an endpoint path under the base.
func (c *Client) url(path string) string { return c.base + path }
