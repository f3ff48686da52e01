package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Message is one chat message.
type Message struct {
	// Role is system, user or assistant.
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Schema asks for an answer that is JSON of this JSON Schema
// (response_format json_schema, honoured by hosted APIs, vLLM and
// llama.cpp's server).
type Schema struct {
	// Name names the schema for the endpoint.
	Name   string
	Schema json.RawMessage
}

// Complete sends messages to POST {base}/v1/chat/completions and returns
// the content of the first choice. With schema set the answer must be
// JSON of that schema; Complete checks it is JSON at all and leaves the
// rest to the caller. An answer cut at the model's length limit, an empty
// answer or one that is not JSON is an error naming what came back.
func (c *Client) Complete(ctx context.Context, messages []Message, schema *Schema) ([]byte, error) {
	body := map[string]any{"model": c.model, "messages": messages, "temperature": 0}
	if schema != nil {
		body["response_format"] = map[string]any{
			"type":        "json_schema",
			"json_schema": map[string]any{"name": schema.Name, "strict": true, "schema": schema.Schema},
		}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, c.url("/v1/chat/completions"), bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	answer, err := c.do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	var resp struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
				Refusal string `json:"refusal"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(answer, &resp); err != nil {
		return nil, fmt.Errorf("chat: the endpoint's answer is not a chat completion: %w (%s)", err, clip(answer))
	}
	if len(resp.Choices) == 0 {
		return nil, fmt.Errorf("chat: the answer has no choices (%s)", clip(answer))
	}
	ch := resp.Choices[0]
	switch {
	case ch.Message.Refusal != "":
		return nil, fmt.Errorf("chat: the model refused: %s", ch.Message.Refusal)
	case ch.FinishReason == "length":
		return nil, fmt.Errorf("chat: the answer was cut at the model's length limit")
	case ch.Message.Content == "":
		return nil, fmt.Errorf("chat: empty answer")
	}
	content := []byte(ch.Message.Content)
	if schema != nil && !json.Valid(content) {
		return nil, fmt.Errorf("chat: the answer is not the JSON asked for: %s", clip(content))
	}
	return content, nil
}

// clip shortens an answer for an error message.
func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
