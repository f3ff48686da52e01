package webrtctest

import (
	"context"
	"os"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

const frameDur = time.Second / FrameRate

// sendH264 sends an Annex-B file as access units at the frame rate,
// once or looping, until ctx ends.
func sendH264(ctx context.Context, tr *webrtc.TrackLocalStaticSample, file string, loop bool) {
	tick := time.NewTicker(frameDur)
	defer tick.Stop()
	for ctx.Err() == nil {
		if !sendH264Once(ctx, tick, tr, file) || !loop {
			return
		}
	}
}

// sendH264Once sends the file once; false means stop.
func sendH264Once(ctx context.Context, tick *time.Ticker, tr *webrtc.TrackLocalStaticSample, file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		return false
	}
	var au []byte
	hasVCL := false
	flush := func() bool {
		if len(au) == 0 {
			return true
		}
		b := au
		au, hasVCL = nil, false
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		}
		return tr.WriteSample(media.Sample{Data: b, Duration: frameDur}) == nil
	}
	for {
		nal, err := r.NextNAL()
		if err != nil {
			return flush()
		}
		if len(nal.Data) == 0 {
			continue
		}
		typ := nal.Data[0] & 0x1f
		vcl := typ == 1 || typ == 5
		// A new access unit starts at a non-VCL NAL or a slice with
		// first_mb_in_slice == 0 after the previous picture's slices.
		if hasVCL && (!vcl || (len(nal.Data) > 1 && nal.Data[1]&0x80 != 0)) && !flush() {
			return false
		}
		au = append(au, 0, 0, 0, 1)
		au = append(au, nal.Data...)
		hasVCL = hasVCL || vcl
	}
}

// sendIVF sends an IVF file's frames at the frame rate, once or looping.
func sendIVF(ctx context.Context, tr *webrtc.TrackLocalStaticSample, file string, loop bool) {
	tick := time.NewTicker(frameDur)
	defer tick.Stop()
	for ctx.Err() == nil {
		if !sendIVFOnce(ctx, tick, tr, file) || !loop {
			return
		}
	}
}

func sendIVFOnce(ctx context.Context, tick *time.Ticker, tr *webrtc.TrackLocalStaticSample, file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		return false
	}
	for {
		fr, _, err := r.ParseNextFrame()
		if err != nil || fr == nil {
			return true
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		}
		if tr.WriteSample(media.Sample{Data: fr, Duration: frameDur}) != nil {
			return false
		}
	}
}

// sendOpus sends an Ogg/Opus file page by page (MakeMedia writes one
// packet per page) every 20 ms, once or looping.
func sendOpus(ctx context.Context, tr *webrtc.TrackLocalStaticSample, file string, loop bool) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		if !sendOpusOnce(ctx, tick, tr, file) || !loop {
			return
		}
	}
}

func sendOpusOnce(ctx context.Context, tick *time.Ticker, tr *webrtc.TrackLocalStaticSample, file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		return false
	}
	var last uint64
	for {
		page, hdr, err := r.ParseNextPage()
		if err != nil {
			return true
		}
		if _, isHeader := hdr.HeaderType(page); isHeader {
			continue
		}
		n := hdr.GranulePosition - last
		last = hdr.GranulePosition
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		}
		if tr.WriteSample(media.Sample{Data: page, Duration: time.Duration(n) * time.Second / 48000}) != nil {
			return false
		}
	}
}
