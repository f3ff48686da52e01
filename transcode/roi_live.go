package transcode

import (
	"context"
	"errors"
	"image"
	"io"
	"os"
	"time"
)

// startFaces makes the ladder's face tracker. Without one the ROI rungs
// are encoded like plain rungs: the failure is logged, sent as an event
// and shown in the ladder's status, and the ladder runs on.
func (r *ladderRun) startFaces() FaceTracker {
	var (
		faces FaceTracker
		err   = errors.New("no face detector in this server")
	)
	if r.m.cfg.Faces != nil {
		faces, err = r.m.cfg.Faces()
	}
	st := &ROIStatus{}
	if err != nil {
		faces = nil
		st.Error = "roi off: " + err.Error()
		r.m.log.Error("roi rungs encoded without regions", "path", r.path, "ladder", r.ladder.Name, "error", err)
		r.m.emit(EventFailed, r.path, map[string]any{"ladder": r.ladder.Name, "error": st.Error})
	}
	r.mu.Lock()
	r.roi = st
	r.mu.Unlock()
	return faces
}

// followFaces reads the sampled grey frames of one ffmpeg run from tap,
// runs the tracker on the newest one whenever it is free, and moves every
// ROI rung's grid to the box around the faces. The tap is drained to its
// end whatever happens, so a slow search never stalls the ladder: frames
// that arrive while a search runs are dropped.
func (r *ladderRun) followFaces(ctx context.Context, plan ladderPlan, tap *os.File, faces FaceTracker) {
	defer tap.Close()
	tp := plan.Tap
	frames := make(chan []byte, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.applyFaces(ctx, plan, frames, faces)
	}()
	for {
		buf := make([]byte, tp.Width*tp.Height)
		if _, err := io.ReadFull(tap, buf); err != nil {
			break
		}
		select {
		case frames <- buf:
		default: // the search is busy: this sample is dropped
		}
	}
	close(frames)
	<-done
}

// applyFaces searches each frame and sends the grid commands that move
// the ROI rungs' boxes. A failed command drops the connection; the next
// sample dials again.
func (r *ladderRun) applyFaces(ctx context.Context, plan ladderPlan, frames <-chan []byte, faces FaceTracker) {
	tp := plan.Tap
	states := make([]gridState, len(plan.ROI))
	for i, g := range plan.ROI {
		states[i] = g.Grid.off()
	}
	var ctl *filterControl
	defer func() {
		if ctl != nil {
			ctl.Close()
		}
	}()
	warned := false
	for pix := range frames {
		if faces == nil || ctx.Err() != nil {
			continue
		}
		box := image.Rectangle{}
		for _, b := range faces.Track(pix, tp.Width, tp.Height) {
			box = box.Union(b)
		}
		r.mu.Lock()
		if r.roi != nil {
			r.roi.Samples++
			if !box.Empty() {
				r.roi.SamplesWithFaces++
			}
			r.roi.Box = [4]int{box.Min.X, box.Min.Y, box.Dx(), box.Dy()}
		}
		r.mu.Unlock()
		var cmds []string
		next := make([]gridState, len(states))
		for i, g := range plan.ROI {
			next[i] = g.Grid.state(scaleRect(box, tp.Width, tp.Height, g.Grid.w, g.Grid.h))
			cmds = append(cmds, g.Grid.commands(states[i], next[i])...)
		}
		if len(cmds) == 0 {
			continue
		}
		if ctl == nil {
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			c, err := dialFilterControl(dctx, plan.Control)
			cancel()
			if err != nil {
				if !warned && ctx.Err() == nil {
					r.m.log.Warn("roi: cannot reach the ladder's filter graph", "path", r.path, "error", err)
					warned = true
				}
				continue
			}
			ctl = c
		}
		if err := ctl.send(cmds, 5*time.Second); err != nil {
			if ctx.Err() == nil {
				r.m.log.Warn("roi: box not moved", "path", r.path, "error", err)
			}
			ctl.Close()
			ctl = nil
			continue
		}
		r.m.log.Debug("roi box moved", "path", r.path, "box", box, "commands", cmds)
		states = next
	}
}

// scaleRect maps a box from a w×h picture to a tw×th one.
func scaleRect(b image.Rectangle, w, h, tw, th int) image.Rectangle {
	if b.Empty() {
		return image.Rectangle{}
	}
	return image.Rect(b.Min.X*tw/w, b.Min.Y*th/h, (b.Max.X*tw+w-1)/w, (b.Max.Y*th+h-1)/h)
}
