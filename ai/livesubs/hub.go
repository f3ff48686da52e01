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
}

// recent is how many cues a path keeps for subscribers that join late.
const recent = 32

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
		cue := Cue{ID: h.last, Start: c.Start, End: c.End, Lines: c.Lines, Text: c.Text(), Time: wall(c.Start), Sent: time.Now()}
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
