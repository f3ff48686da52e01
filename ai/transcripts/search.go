package transcripts

import (
	"context"
	"database/sql"
	"path"
	"strings"
	"time"
	"unicode"
)

// Hit is one utterance that matches a search.
type Hit struct {
	// Path is the stream path and Segment the segment's file name.
	Path    string `json:"path"`
	Segment string `json:"segment"`
	// Offset and End are the utterance's times in seconds from the start
	// of the segment.
	Offset float64 `json:"offset"`
	End    float64 `json:"end"`
	// Time is the wall-clock time of the utterance (segment start +
	// offset) when the segment's start is known: the start= to give the
	// recorder's playback.
	Time *time.Time `json:"time,omitempty"`
	// Snippet is the utterance with the matched words in [brackets].
	Snippet string `json:"snippet"`
}

// Search finds utterances containing every word of q (any order, English
// stemming: "jumped" finds "jumps"), best match first, in stream path p
// when not empty.
func (ix *Index) Search(ctx context.Context, q, p string, limit int) ([]Hit, error) {
	match := ftsQuery(q)
	if match == "" {
		return []Hit{}, nil
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	query := `SELECT u.file, u.path, u.start, u."end", snippet(utterances, 0, '[', ']', '…', 16), s.path, s.start
		FROM utterances u LEFT JOIN segments s ON s.file = u.file
		WHERE utterances MATCH ?`
	args := []any{match}
	if p != "" {
		query += ` AND coalesce(s.path, u.path) = ?`
		args = append(args, p)
	}
	query += ` ORDER BY rank LIMIT ?`
	args = append(args, limit)
	rows, err := ix.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	hits := []Hit{}
	for rows.Next() {
		var (
			file, upath, snip string
			start, end        float64
			spath, sstart     sql.NullString
		)
		if err := rows.Scan(&file, &upath, &start, &end, &snip, &spath, &sstart); err != nil {
			return nil, err
		}
		h := Hit{Path: upath, Segment: path.Base(file), Offset: start, End: end, Snippet: snip}
		if spath.Valid {
			h.Path = spath.String
		}
		if st, err := time.Parse(time.RFC3339Nano, sstart.String); sstart.Valid && err == nil {
			at := st.Add(time.Duration(start * float64(time.Second))).UTC()
			h.Time = &at
		}
		hits = append(hits, h)
	}
	return hits, rows.Err()
}

// ftsQuery turns free text into an FTS5 query of quoted terms, so a
// user's quotes, stars or column names are words, not syntax.
func ftsQuery(q string) string {
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' })
	for i, w := range words {
		words[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
	}
	return strings.Join(words, " ")
}
