package summary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"mps/ai/openai"
	"mps/internal/aispec"
)

// answerSchema is the JSON Schema the chat model answers in; it is the
// Report without the engine.
var answerSchema = json.RawMessage(`{"type":"object","additionalProperties":false,` +
	`"required":["title","summary","keywords","chapters"],"properties":{` +
	`"title":{"type":"string"},"summary":{"type":"string"},` +
	`"keywords":{"type":"array","items":{"type":"string"}},` +
	`"chapters":{"type":"array","items":{"type":"object","additionalProperties":false,` +
	`"required":["start","title"],"properties":{"start":{"type":"number"},"title":{"type":"string"}}}}}}`)

const systemPrompt = "You summarise the transcript of a video. Each transcript line starts with its start time " +
	"in seconds in square brackets. Answer only with JSON: a short title, a one-paragraph summary, " +
	"up to 10 keywords, and chapters where the topic changes, each with the start time of the line it " +
	"begins at (a number of seconds copied from the brackets) and a short title."

// answerReserve is the share of the context kept for the prompt and the
// answer; a token is taken as 4 characters.
const (
	answerReserve = 0.35
	charsPerToken = 4
)

// chatSummary asks the chat model for the summary of each chunk of the
// transcript, then, with more than one chunk, for a title, paragraph and
// keywords over the chunks' answers. Chapter starts are moved onto the
// nearest sentence start (and a scene cut within 2 s) so they point at
// real transcript times whatever the model wrote.
func (e Extension) chatSummary(ctx context.Context, words []Word, cuts []float64, spec aispec.Summary, progress func(float64)) (Report, error) {
	sents := splitSentences(words, newBackground())
	chunks := chunkLines(sents, int(float64(spec.ContextTokens)*(1-answerReserve))*charsPerToken)
	var parts []Report
	for i, c := range chunks {
		lang := ""
		if spec.Language != "" {
			lang = " Write in language " + spec.Language + "."
		}
		user := fmt.Sprintf("Transcript part %d of %d:%s\n\n%s", i+1, len(chunks), lang, c)
		r, err := e.ask(ctx, user)
		if err != nil {
			return Report{}, err
		}
		parts = append(parts, r)
		progress(10 + 80*float64(i+1)/float64(len(chunks)))
	}
	rep := parts[0]
	if len(parts) > 1 {
		var b strings.Builder
		for i, p := range parts {
			fmt.Fprintf(&b, "Part %d: %s\n%s\nKeywords: %s\n\n", i+1, p.Title, p.Summary, strings.Join(p.Keywords, ", "))
			if i > 0 {
				rep.Chapters = append(rep.Chapters, p.Chapters...)
			}
		}
		whole, err := e.ask(ctx, "These are summaries of consecutive parts of one video. Give the title, one-paragraph "+
			"summary and keywords of the whole video, and an empty chapter list.\n\n"+b.String())
		if err != nil {
			return Report{}, err
		}
		rep.Title, rep.Summary, rep.Keywords = whole.Title, whole.Summary, whole.Keywords
	}
	rep.Chapters = anchor(rep.Chapters, sents, cuts, spec.MaxChapters)
	if rep.Keywords == nil {
		rep.Keywords = []string{}
	}
	rep.Engine = "chat:" + e.Model
	return rep, nil
}

// ask sends one request and decodes the answer.
func (e Extension) ask(ctx context.Context, user string) (Report, error) {
	msgs := []openai.Message{{Role: "system", Content: systemPrompt}, {Role: "user", Content: user}}
	data, err := e.Chat.Complete(ctx, msgs, &openai.Schema{Name: "video_summary", Schema: answerSchema})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return Report{}, fmt.Errorf("chat provider timed out: %w", err)
		}
		return Report{}, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return Report{}, fmt.Errorf("chat answer does not fit the summary schema: %w", err)
	}
	if strings.TrimSpace(r.Title) == "" || strings.TrimSpace(r.Summary) == "" {
		return Report{}, fmt.Errorf("chat answer lacks a title or a summary: %s", clip(data))
	}
	return r, nil
}

// chunkLines writes the sentences as "[12.3] text" lines in chunks of at
// most limit characters (a longer sentence is a chunk of its own).
func chunkLines(sents []sentence, limit int) []string {
	var chunks []string
	var b strings.Builder
	for _, s := range sents {
		line := fmt.Sprintf("[%.1f] %s\n", s.Start, s.Text)
		if b.Len() > 0 && b.Len()+len(line) > limit {
			chunks = append(chunks, b.String())
			b.Reset()
		}
		b.WriteString(line)
	}
	if b.Len() > 0 {
		chunks = append(chunks, b.String())
	}
	return chunks
}

// anchor moves every chapter start onto the nearest sentence start, then
// onto a scene cut within 2 s, drops duplicates, sorts them, starts the
// first at 0 and keeps at most max.
func anchor(chapters []Chapter, sents []sentence, cuts []float64, maxN int) []Chapter {
	seen := map[float64]bool{}
	out := []Chapter{}
	for _, c := range chapters {
		t := c.Start
		best := math.Inf(1)
		for _, s := range sents {
			if d := math.Abs(s.Start - c.Start); d < best {
				best, t = d, s.Start
			}
		}
		for _, cut := range cuts {
			if math.Abs(cut-t) <= chapterCutWin {
				t = cut
				break
			}
		}
		t = round1(t)
		if seen[t] || strings.TrimSpace(c.Title) == "" {
			continue
		}
		seen[t] = true
		out = append(out, Chapter{Start: t, Title: strings.TrimSpace(c.Title)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	if len(out) > maxN {
		out = out[:maxN]
	}
	if len(out) > 0 {
		out[0].Start = 0
	}
	return out
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
