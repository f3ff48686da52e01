// Package recorder records live streams to disk as segment files, keeps an
// index of what was recorded, enforces retention, and serves recordings back
// over HTTP (segment lists, downloads, stitched time ranges, HLS VOD).
//
// Recording is the feature users trust with their only copy, so the design
// puts not losing frames first. Each recording is a stream.Reader drained at
// once by its own goroutine into a bounded in-memory queue; a separate writer
// goroutine turns the queue into files. A slow disk therefore fills the
// queue rather than making the recorder fall behind the ring, and it never
// slows the publisher or the players. Only when the queue overflows are
// units dropped: the segment is closed with a record.error event, the loss is
// counted in Stats, and recording resumes at the next keyframe.
//
// Segments are fragmented MP4 (an init block, then one moof+mdat per part of
// PartDuration, each written with its own write call) or MPEG-TS flushed at
// the same cadence, so a crash loses at most about one part. A segment is cut
// on the first keyframe after SegmentDuration, so every segment starts with
// a decodable picture. Units reach the files in decoding-time order across
// tracks (an interleaver absorbs the publisher's audio/video skew, and
// multi-frame audio units are split), so a cut at a keyframe splits the
// audio there too: the segments of a session hold the whole stream without
// gap or overlap. Each file has its own timeline starting at its keyframe
// (0 in fMP4; the TS muxer's fixed origin in MPEG-TS, whose continuity
// counters run on across the session's files); the index's wall-clock
// starts place the files when they are played back together.
//
// A disk that is full or unwritable stops the recording with an event while
// the stream goes on; the writer retries with backoff at keyframes and
// resumes by itself when the directory can be written again.
//
// A rule naming a storage target has every finished segment uploaded to
// it by one uploader goroutine (the store checks Content-MD5 on every
// part and the size is confirmed; large files go in parts), retried with
// backoff. The queue is a journal in the recordings root, written before
// anything depends on it (a segment enters it when it is opened), so a
// crash or a kill -9 at any point leaves every segment either uploaded or
// queued with its local file. The local file is deleted (keep_local
// false) only once the store confirmed the object and the journal says
// so; the journal then also lists the segment, with its duration, after a
// restart. Reads of a segment whose file is gone go to the bucket
// (proxied in blocks, or a presigned URL), so listings, downloads, range
// exports and HLS VOD work the same; retention and DELETE remove the
// bucket copy first.
package recorder
