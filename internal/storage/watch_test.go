package storage

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// recorder collects fired objects; fail makes the next fire fail once.
type fired struct {
	ids  []string
	fail bool
}

func (f *fired) fire(o NewObject) error {
	if f.fail {
		f.fail = false
		return errors.New("queue down")
	}
	f.ids = append(f.ids, o.Key)
	return nil
}

func put(t *testing.T, tg Target, key, body string) {
	t.Helper()
	if _, err := tg.Put(context.Background(), key, strings.NewReader(body), int64(len(body)), ""); err != nil {
		t.Fatal(err)
	}
}

// TestWatcherFiresEachObjectOnce: every new object under the prefix whose
// name matches fires once; a restart (a new watcher on the same state
// file) fires only what arrived meanwhile; a rewritten object fires again;
// a failed fire is retried; a notification fires at once and the next
// listing does not repeat it.
func TestWatcherFiresEachObjectOnce(t *testing.T) {
	for kind, tg := range targets(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			state := filepath.Join(t.TempDir(), "watch", "state.jsonl")
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			f := &fired{}
			cfg := WatchConfig{Prefix: "in/", Glob: "*.mp4", Interval: -1, StateFile: state}
			w, err := NewWatcher(tg, cfg, f.fire, log)
			if err != nil {
				t.Fatal(err)
			}
			put(t, tg, "in/a.mp4", "a")
			put(t, tg, "in/b.txt", "b")
			put(t, tg, "other/c.mp4", "c")
			if err := w.Poll(ctx); err != nil || !slices.Equal(f.ids, []string{"in/a.mp4"}) {
				t.Fatalf("first poll fired %v (%v), want in/a.mp4", f.ids, err)
			}
			if err := w.Poll(ctx); err != nil || len(f.ids) != 1 {
				t.Fatalf("second poll fired again: %v", f.ids)
			}

			put(t, tg, "in/d.mp4", "d") // arrives while "down"
			f2 := &fired{}
			w2, err := NewWatcher(tg, cfg, f2.fire, log)
			if err != nil {
				t.Fatal(err)
			}
			if err := w2.Poll(ctx); err != nil || !slices.Equal(f2.ids, []string{"in/d.mp4"}) {
				t.Fatalf("after restart fired %v, want only in/d.mp4", f2.ids)
			}

			put(t, tg, "in/a.mp4", "a, second version")
			f2.fail = true
			if err := w2.Poll(ctx); err == nil {
				t.Fatal("a failed fire was not reported")
			}
			if err := w2.Poll(ctx); err != nil || !slices.Equal(f2.ids, []string{"in/d.mp4", "in/a.mp4"}) {
				t.Fatalf("rewritten object after a failed fire: %v (%v)", f2.ids, err)
			}

			put(t, tg, "in/e.mp4", "e")
			if err := w2.Notify(ctx, "in/e.mp4"); err != nil {
				t.Fatal(err)
			}
			if err := w2.Notify(ctx, "in/missing.mp4"); err != nil {
				t.Fatal(err)
			}
			_ = w2.Poll(ctx)
			if !slices.Equal(f2.ids, []string{"in/d.mp4", "in/a.mp4", "in/e.mp4"}) {
				t.Fatalf("notified object: %v", f2.ids)
			}
		})
	}
}

func TestEventKeys(t *testing.T) {
	body := `{"EventName":"s3:ObjectCreated:Put","Key":"mps/in/my clip.mp4","Records":[
	{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"mps"},"object":{"key":"in%2Fmy+clip.mp4","size":10,"eTag":"x"}}},
	{"eventName":"s3:ObjectRemoved:Delete","s3":{"object":{"key":"in/gone.mp4"}}}]}`
	keys, err := EventKeys([]byte(body))
	if err != nil || !slices.Equal(keys, []string{"in/my clip.mp4"}) {
		t.Fatalf("EventKeys = %v, %v", keys, err)
	}
	if _, err := EventKeys([]byte("{not json")); err == nil {
		t.Fatal("malformed event accepted")
	}
}

// FuzzEventKeys: any body gives keys or an error, never a panic.
func FuzzEventKeys(f *testing.F) {
	f.Add([]byte(`{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"object":{"key":"a%2Fb"}}}]}`))
	f.Add([]byte(`{"Records":null}`))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = EventKeys(b) })
}
