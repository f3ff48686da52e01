package livesubs

import (
	"sync"
	"time"

	"mps/ai/subtitles"
)

// Cue is one live subtitle as subscribers receive it.
type Cue struct {
	// ID rises by one per cue of a path (the SSE event id).
	ID uint64 `json:"id"`
	// Start and End are stream times in seconds (the stream's PTS clock).
	Start float64  `json:"start"`
	End   float64  `json:"end"`
	Lines []string `json:"lines"`
	Text  string   `json:"text"`
	// Time is the wall-clock time the cue's speech started; Sent when the
	// cue was published.
	Time time.Time `json:"time"`
	Sent time.Time `json:"sent"`
	// Published is the stream time at which the cue was published. A live
	// cue exists only after its sentence ended, so renditions that players
	// fetch once per segment (HLS WebVTT) show it from then on, the way
	// live captions roll up, instead of at a moment already played.
	Published float64 `json:"published"`
}

// recent is how many cues a path keeps for subscribers that join late.
const recent = 64

// hub fans the cues of one path out to its subscribers.
type hub struct {
	mu     sync.Mutex
	last   uint64
	recent []Cue
	subs   map[chan Cue]struct{}
}

func newHub() *hub { return &hub{subs: map[chan Cue]struct{}{}} }

// publish numbers and sends cues; a subscriber that is not reading loses
// the cue rather than holding up the recogniser.
func (h *hub) publish(cs []subtitles.Cue, wall func(float64) time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range cs {
		h.last++
		now := time.Now()
		cue := Cue{ID: h.last, Start: c.Start, End: c.End, Lines: c.Lines, Text: c.Text(), Time: wall(c.Start), Sent: now}
		cue.Published = c.Start + now.Sub(cue.Time).Seconds()
		h.recent = append(h.recent, cue)
		if len(h.recent) > recent {
			h.recent = h.recent[len(h.recent)-recent:]
		}
		for ch := range h.subs {
			select {
			case ch <- cue:
			default:
			}
		}
	}
}

// subscribe returns the kept cues after id and a channel of new ones.
func (h *hub) subscribe(after uint64) ([]Cue, chan Cue) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan Cue, 64)
	h.subs[ch] = struct{}{}
	var back []Cue
	for _, c := range h.recent {
		if c.ID > after {
			back = append(back, c)
		}
	}
	return back, ch
}

func (h *hub) unsubscribe(ch chan Cue) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

// Cues returns the kept cues of path shown in [from, to) on the stream's
// clock when each is shown from its Published time for its duration, for
// the HLS subtitle rendition.
func (m *Manager) Cues(path string, from, to time.Duration) []Cue {
	m.mu.Lock()
	h := m.hubs[path]
	m.mu.Unlock()
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Cue
	for _, c := range h.recent {
		s := time.Duration(c.Published * float64(time.Second))
		e := s + time.Duration((c.End-c.Start)*float64(time.Second))
		if s < to && e > from {
			out = append(out, c)
		}
	}
	return out
}
