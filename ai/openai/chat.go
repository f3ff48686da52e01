package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Message is one chat message.
type Message struct {
	// Role is system, user or assistant.
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatRequest is one chat completion: messages in, one answer out.
type ChatRequest struct {
	Messages []Message
	// Schema, when set, asks for a JSON answer that follows this JSON
	// Schema (response_format json_schema, strict); SchemaName names it.
	Schema     json.RawMessage
	SchemaName string
	// Temperature is sent when not nil (0 for repeatable answers).
	Temperature *float64
	// MaxTokens bounds the answer when > 0.
	MaxTokens int
}

type chatBody struct {
	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	Temperature    *float64        `json:"temperature,omitempty"`
	MaxTokens      int             `json:"max_tokens,omitempty"`
	ResponseFormat *responseFormat `json:"response_format,omitempty"`
}

type responseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *jsonSchema `json:"json_schema,omitempty"`
}

type jsonSchema struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
	Strict bool            `json:"strict"`
}

type chatAnswer struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
			Refusal string `json:"refusal,omitempty"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
}

// Chat sends POST /v1/chat/completions and returns the first choice's
// content: plain text, or the JSON document when req.Schema is set (the
// caller unmarshals it). A refusal or an empty answer is an error.
func (c *Client) Chat(ctx context.Context, req ChatRequest) (string, error) {
	if len(req.Messages) == 0 {
		return "", errors.New("chat: no messages")
	}
	cb := chatBody{Model: c.model, Messages: req.Messages, Temperature: req.Temperature, MaxTokens: req.MaxTokens}
	if len(req.Schema) > 0 {
		name := req.SchemaName
		if name == "" {
			name = "answer"
		}
		cb.ResponseFormat = &responseFormat{Type: "json_schema", JSONSchema: &jsonSchema{Name: name, Schema: req.Schema, Strict: true}}
	}
	body, err := json.Marshal(cb)
	if err != nil {
		return "", err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/v1/chat/completions"), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	hr.Header.Set("Content-Type", "application/json")
	b, err := c.do(ctx, hr)
	if err != nil {
		return "", err
	}
	var a chatAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return "", fmt.Errorf("chat: the endpoint's answer is not a chat completion: %w (%s)", err, clip(b))
	}
	if len(a.Choices) == 0 {
		return "", errors.New("chat: answer has no choices")
	}
	m := a.Choices[0].Message
	switch {
	case m.Refusal != "":
		return "", fmt.Errorf("chat: the model refused: %s", m.Refusal)
	case a.Choices[0].FinishReason == "length":
		return "", errors.New("chat: the answer was cut at the model's length limit")
	case m.Content == "":
		return "", fmt.Errorf("chat: empty answer (finish_reason %q)", a.Choices[0].FinishReason)
	}
	if len(req.Schema) > 0 && !json.Valid([]byte(m.Content)) {
		return "", fmt.Errorf("chat: the answer is not the JSON asked for: %s", clip([]byte(m.Content)))
	}
	return m.Content, nil
}

// Schema asks for an answer that is JSON of this JSON Schema
// (response_format json_schema, honoured by hosted APIs, vLLM and
// llama.cpp's server).
type Schema struct {
	// Name names the schema for the endpoint.
	Name   string
	Schema json.RawMessage
}

// Complete is Chat for callers that want the answer as bytes, at
// temperature 0, with an optional schema: the summary's interface.
func (c *Client) Complete(ctx context.Context, messages []Message, schema *Schema) ([]byte, error) {
	zero := 0.0
	req := ChatRequest{Messages: messages, Temperature: &zero}
	if schema != nil {
		req.Schema, req.SchemaName = schema.Schema, schema.Name
	}
	out, err := c.Chat(ctx, req)
	if err != nil {
		return nil, err
	}
	return []byte(out), nil
}

// clip shortens an answer for an error message.
func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
