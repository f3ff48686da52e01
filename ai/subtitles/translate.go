package subtitles

import (
	"context"
	"encoding/json"
	"fmt"

	"mps/ai/openai"
)

// Translator translates cue texts through a chat endpoint.
type Translator struct {
	Client *openai.Client
	// Batch is how many cues go in one request (default 40): enough
	// context for a good translation, small enough for any model.
	Batch int
}

var translationSchema = json.RawMessage(`{"type":"object","properties":{"lines":{"type":"array","items":{"type":"string"}}},"required":["lines"],"additionalProperties":false}`)

// Translate returns the cues with their text in language lang (a BCP 47
// tag) and the same times. The endpoint must answer one line per cue; an
// answer with another count fails rather than shifting every later line.
func (tr *Translator) Translate(ctx context.Context, cues []Cue, from, lang string, l Layout) ([]Cue, error) {
	n := tr.Batch
	if n <= 0 {
		n = 40
	}
	out := make([]Cue, 0, len(cues))
	for i := 0; i < len(cues); i += n {
		part := cues[i:min(i+n, len(cues))]
		texts := make([]string, len(part))
		for j, c := range part {
			texts[j] = c.Text()
		}
		got, err := tr.batch(ctx, texts, from, lang)
		if err != nil {
			return nil, fmt.Errorf("translate to %s: %w", lang, err)
		}
		for j, c := range part {
			c.Lines = Rewrap(got[j], l)
			out = append(out, c)
		}
	}
	return out, nil
}

func (tr *Translator) batch(ctx context.Context, texts []string, from, lang string) ([]string, error) {
	in, _ := json.Marshal(map[string]any{"lines": texts})
	zero := 0.0
	ans, err := tr.Client.Chat(ctx, openai.ChatRequest{
		Messages: []openai.Message{
			{Role: "system", Content: fmt.Sprintf("You translate subtitles from the language with BCP 47 tag %q into the language with tag %q. "+
				"The user sends JSON {\"lines\": [...]}, one subtitle per entry, in order. Answer JSON {\"lines\": [...]} with exactly "+
				"one translated entry per input entry, in the same order; never merge or split entries.", from, lang)},
			{Role: "user", Content: string(in)},
		},
		Schema: translationSchema, SchemaName: "subtitle_lines", Temperature: &zero,
	})
	if err != nil {
		return nil, err
	}
	var got struct {
		Lines []string `json:"lines"`
	}
	if err := json.Unmarshal([]byte(ans), &got); err != nil {
		return nil, fmt.Errorf("answer is not the JSON asked for: %w", err)
	}
	if len(got.Lines) != len(texts) {
		return nil, fmt.Errorf("answer has %d lines for %d cues", len(got.Lines), len(texts))
	}
	return got.Lines, nil
}
