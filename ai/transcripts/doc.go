// Package transcripts makes recordings searchable by what is said in
// them. Transcripts of recording segments (made by a scheme with a
// "subtitles" operation and a recording trigger) are indexed per utterance
// in an SQLite FTS5 table (modernc.org/sqlite, pure Go, no cgo); a search
// returns the stream path, the segment, the offset of the utterance in the
// segment and its wall-clock time, so a player can ask the recorder's
// /get?start= for exactly that moment.
package transcripts
