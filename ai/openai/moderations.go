package openai

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
)

// ModerationInput is one item sent for moderation: a text or an image
// (sent inline as a data URL, so the endpoint needs no access to MPS).
type ModerationInput struct {
	Text string
	// PNG is an image's bytes.
	PNG []byte
}

// ModerationResult is the endpoint's verdict on one request.
type ModerationResult struct {
	Flagged        bool               `json:"flagged"`
	Categories     map[string]bool    `json:"categories"`
	CategoryScores map[string]float64 `json:"category_scores"`
}

// Moderate sends in to POST {base}/v1/moderations and returns the first
// result (one request carries one text, or one image with an optional
// text, so there is one verdict per request).
func (c *Client) Moderate(ctx context.Context, in ModerationInput) (ModerationResult, error) {
	body := map[string]any{}
	if c.model != "" {
		body["model"] = c.model
	}
	if in.PNG == nil {
		body["input"] = in.Text
	} else {
		parts := []map[string]any{{"type": "image_url", "image_url": map[string]string{
			"url": "data:image/png;base64," + base64.StdEncoding.EncodeToString(in.PNG)}}}
		if in.Text != "" {
			parts = append([]map[string]any{{"type": "text", "text": in.Text}}, parts...)
		}
		body["input"] = parts
	}
	data, err := json.Marshal(body)
	if err != nil {
		return ModerationResult{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/v1/moderations"), bytes.NewReader(data))
	if err != nil {
		return ModerationResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	answer, err := c.do(ctx, req)
	if err != nil {
		return ModerationResult{}, err
	}
	var out struct {
		Results []ModerationResult `json:"results"`
	}
	if err := json.Unmarshal(answer, &out); err != nil {
		return ModerationResult{}, fmt.Errorf("moderations: bad answer: %w", err)
	}
	if len(out.Results) == 0 {
		return ModerationResult{}, fmt.Errorf("moderations: answer without results")
	}
	return out.Results[0], nil
}
