// Package livehl keeps a rolling list of the best moments of live
// streams. For every path whose rule turns highlights on, one ffmpeg
// process analyses the stream as it plays (fed MPEG-TS from a reader on
// the path's ring, restarted with backoff when it fails); the per-second
// scores of ai/highlights pick the best clips of the last window, each
// clip is cut from the path's recording once it is over and recorded,
// stored under the data directory, announced as a highlight.created event
// and served at /api/v1/highlights/PATH.
package livehl
