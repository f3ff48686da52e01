package webrtc

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// negotiateTimeout bounds answering one offer, candidate gathering
// included (STUN servers that do not answer are the slow part).
const negotiateTimeout = 10 * time.Second

// negotiate applies an offer and returns the answer with every candidate
// in it, so clients need no trickle from the server. beforeAnswer, if set,
// adds the local tracks once the offer's transceivers exist.
func negotiate(ctx context.Context, pc *webrtc.PeerConnection, offer string, beforeAnswer func() error) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, negotiateTimeout)
	defer cancel()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", errStatus(http.StatusBadRequest, "SDP offer refused: %v", err)
	}
	if beforeAnswer != nil {
		if err := beforeAnswer(); err != nil {
			return "", err
		}
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", errStatus(http.StatusBadRequest, "cannot answer the SDP offer: %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", errStatus(http.StatusInternalServerError, "set local description: %v", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", errStatus(http.StatusServiceUnavailable, "ICE candidate gathering did not finish: %v", ctx.Err())
	}
	return pc.LocalDescription().SDP, nil
}

// trickle adds a PATCH's candidates to pc. A new ICE username fragment
// would be an ICE restart, which sessions do not support: the client
// starts a new session instead.
func trickle(pc *webrtc.PeerConnection, ufrag string, cands []trickleCandidate) error {
	if ufrag != "" {
		if rd := pc.RemoteDescription(); rd == nil || !strings.Contains(rd.SDP, "a=ice-ufrag:"+ufrag+"\r\n") && !strings.Contains(rd.SDP, "a=ice-ufrag:"+ufrag+"\n") {
			return errStatus(http.StatusNotImplemented, "ICE restart is not supported: start a new session")
		}
	}
	for _, c := range cands {
		init := webrtc.ICECandidateInit{Candidate: c.candidate}
		if c.mid != "" {
			mid := c.mid
			init.SDPMid = &mid
		} else {
			var idx uint16
			init.SDPMLineIndex = &idx
		}
		if err := pc.AddICECandidate(init); err != nil {
			return errStatus(http.StatusBadRequest, "candidate %q: %v", c.candidate, err)
		}
	}
	return nil
}

// connWatch turns a peer connection's state changes into two signals:
// connected (ICE and DTLS are up) and gone (failed or closed).
type connWatch struct {
	once      sync.Once
	gone      sync.Once
	connected chan struct{}
	dead      chan struct{}
}

func watchConn(pc *webrtc.PeerConnection) *connWatch {
	w := &connWatch{connected: make(chan struct{}), dead: make(chan struct{})}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			w.once.Do(func() { close(w.connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			w.gone.Do(func() { close(w.dead) })
		}
	})
	return w
}

// waitConnected waits for the connection, its failure, ctx, or timeout.
func (w *connWatch) waitConnected(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-w.connected:
		return nil
	case <-w.dead:
		return fmt.Errorf("peer connection failed before it was up")
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("ICE/DTLS not established within %s", timeout)
	}
}
