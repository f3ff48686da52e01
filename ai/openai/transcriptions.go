package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
)

// TranscriptionRequest is one audio file to transcribe.
type TranscriptionRequest struct {
	// Audio is the file's content and FileName its name (the extension
	// tells the endpoint the format: "audio.wav").
	Audio    io.Reader
	FileName string
	// Language is an ISO 639-1 code ("en"); empty lets the model detect it.
	Language string
	// Prompt guides spelling and style; optional.
	Prompt string
}

// Transcription is the verbose_json answer: the text, its segments and,
// because word timestamps are asked for, every word with its times in
// seconds from the start of the audio.
type Transcription struct {
	Text     string     `json:"text"`
	Language string     `json:"language"`
	Duration float64    `json:"duration"`
	Segments []TSegment `json:"segments"`
	Words    []TWord    `json:"words"`
}

// TSegment is one segment of a verbose_json transcription.
type TSegment struct {
	ID    int     `json:"id"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Text  string  `json:"text"`
	// Words is filled by servers that nest word times in segments
	// (faster-whisper servers); hosted APIs put them in Transcription.Words.
	Words []TWord `json:"words,omitempty"`
}

// TWord is one word with its times.
type TWord struct {
	Word        string  `json:"word"`
	Start       float64 `json:"start"`
	End         float64 `json:"end"`
	Probability float64 `json:"probability,omitempty"`
}

// Transcribe sends POST /v1/audio/transcriptions as multipart/form-data
// with response_format=verbose_json and word timestamps, and returns the
// parsed answer. The audio is read into memory: endpoints take one bounded
// upload, not a stream.
func (c *Client) Transcribe(ctx context.Context, r TranscriptionRequest) (*Transcription, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	name := r.FileName
	if name == "" {
		name = "audio.wav"
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(fw, r.Audio); err != nil {
		return nil, fmt.Errorf("transcription: read audio: %w", err)
	}
	fields := [][2]string{
		{"model", c.model},
		{"response_format", "verbose_json"},
		{"timestamp_granularities[]", "word"},
		{"timestamp_granularities[]", "segment"},
	}
	if r.Language != "" {
		fields = append(fields, [2]string{"language", r.Language})
	}
	if r.Prompt != "" {
		fields = append(fields, [2]string{"prompt", r.Prompt})
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/v1/audio/transcriptions"), &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	b, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	var t Transcription
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("transcription: answer is not verbose_json: %w", err)
	}
	return &t, nil
}
