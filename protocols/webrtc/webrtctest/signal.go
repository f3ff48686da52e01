package webrtctest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// StatusError is a WHIP/WHEP refusal. Tests assert on the status and the
// reason the server gave, so both are kept verbatim.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Status, strings.TrimSpace(e.Body))
}

// Status returns the HTTP status of a refusal carried by err, or 0 when
// err is nil or not a refusal; it saves callers an errors.As.
func Status(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
}

// newAPI builds a pion API whose ICE agent only uses loopback, so tests
// neither leak onto real interfaces nor wait on mDNS or STUN.
func newAPI(tcpOnly bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	if tcpOnly {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// signal gathers pc's candidates, posts the offer to endpoint (no
// trickle) and applies the answer. It returns the Location and the answer.
func signal(ctx context.Context, pc *webrtc.PeerConnection, endpoint, auth string) (loc, answer string, err error) {
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return "", "", fmt.Errorf("create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return "", "", fmt.Errorf("set offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", "", fmt.Errorf("ICE gathering: %w", ctx.Err())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		return "", "", fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("POST %s: %w", endpoint, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return "", "", fmt.Errorf("read answer: %w", err)
	}
	if res.StatusCode != http.StatusCreated {
		return "", "", &StatusError{Status: res.StatusCode, Body: string(body)}
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		return "", "", fmt.Errorf("apply answer: %w\n%s", err, body)
	}
	return res.Header.Get("Location"), string(body), nil
}

// deleteSession ends a WHIP/WHEP session by DELETE on its Location,
// resolved against the endpoint. Errors are ignored: the caller is closing
// anyway and the server may already be gone.
func deleteSession(endpoint, loc string) {
	if loc == "" {
		return
	}
	base, err := url.Parse(endpoint)
	if err != nil {
		return
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, base.ResolveReference(ref).String(), nil)
	if err != nil {
		return
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
}
