package transcripts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"mps/ai/speech"
)

// Index is the full-text index of recording transcripts.
type Index struct {
	db   *sql.DB
	root string // recordings root, symlinks resolved
	log  *slog.Logger
}

const schema = `
PRAGMA journal_mode=WAL;
PRAGMA busy_timeout=5000;
CREATE TABLE IF NOT EXISTS segments (
	file  TEXT PRIMARY KEY,  -- relative to the recordings root
	path  TEXT NOT NULL,     -- stream path
	start TEXT NOT NULL      -- RFC 3339 wall-clock start of the segment
);
CREATE VIRTUAL TABLE IF NOT EXISTS utterances USING fts5(
	text, file UNINDEXED, path UNINDEXED, start UNINDEXED, "end" UNINDEXED,
	tokenize = 'porter unicode61'
);`

// Open opens (creating if needed) the index in file for recordings under
// recordingsDir.
func Open(file, recordingsDir string, log *slog.Logger) (*Index, error) {
	if log == nil {
		log = slog.Default()
	}
	db, err := sql.Open("sqlite", file)
	if err != nil {
		return nil, fmt.Errorf("transcripts: %w", err)
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises anyway
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("transcripts: open %s: %w", file, err)
	}
	root := recordingsDir
	if r, err := filepath.EvalSymlinks(recordingsDir); err == nil {
		root = r
	}
	return &Index{db: db, root: root, log: log}, nil
}

// Close closes the database.
func (ix *Index) Close() error { return ix.db.Close() }

// rel returns file relative to the recordings root, or false when it is
// not a recording.
func (ix *Index) rel(file string) (string, bool) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", false
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	rel, err := filepath.Rel(ix.root, abs)
	if err != nil || rel == "." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || rel == ".." {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// AddSegment records which stream and start time a segment file (relative
// to the recordings root, as the recorder's events name it) belongs to.
func (ix *Index) AddSegment(ctx context.Context, rel, path string, start time.Time) error {
	_, err := ix.db.ExecContext(ctx, `INSERT INTO segments(file, path, start) VALUES(?, ?, ?)
		ON CONFLICT(file) DO UPDATE SET path = excluded.path, start = excluded.start`,
		filepath.ToSlash(rel), path, start.UTC().Format(time.RFC3339Nano))
	return err
}

// Add indexes the transcript of input when input is a recording segment
// (other files are not searchable recordings and are skipped). It replaces
// an earlier transcript of the same file. Errors are logged: a failed index
// must not fail the subtitles the user asked for.
func (ix *Index) Add(ctx context.Context, input string, t *speech.Transcript) {
	rel, ok := ix.rel(input)
	if !ok {
		return
	}
	if err := ix.add(ctx, rel, t); err != nil {
		ix.log.Error("index transcript", "file", rel, "error", err)
	}
}

func (ix *Index) add(ctx context.Context, rel string, t *speech.Transcript) error {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `DELETE FROM utterances WHERE file = ?`, rel); err != nil {
		return err
	}
	// The stream path is the segment's when the recorder told us, else the
	// file's directory (what the default name template gives).
	path := filepath.ToSlash(filepath.Dir(rel))
	var known string
	if err := tx.QueryRowContext(ctx, `SELECT path FROM segments WHERE file = ?`, rel).Scan(&known); err == nil {
		path = known
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	for _, s := range t.Segments {
		if strings.TrimSpace(s.Text) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO utterances(text, file, path, start, "end") VALUES(?, ?, ?, ?, ?)`,
			s.Text, rel, path, s.Start, s.End); err != nil {
			return err
		}
	}
	return tx.Commit()
}
