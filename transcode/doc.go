// Package transcode runs ffmpeg on live streams: adaptive-bitrate ladders
// (one ffmpeg per source decodes once and encodes every rung, each rung
// published as PATH/RUNG), periodic keyframe snapshots with an HTTP API,
// and audio transcoders that give WebRTC an Opus feed of an AAC source (or
// RTMP/HLS an AAC feed of an Opus source).
//
// Media goes to ffmpeg as MPEG-TS on stdin (internal/tsconv) and comes back as
// MPEG-TS on extra pipes (pipe:3, pipe:4, …), so no port or temporary file
// is involved and every ffmpeg dies with its pipes. Arguments are passed to
// exec directly, never through a shell.
//
// A rung is an ordinary stream on the hub: when its ffmpeg crashes the rung
// path ends (readers get io.EOF) and is published again when the restarted
// ffmpeg delivers its first keyframe, so players and the HLS packager
// reconnect as they would to any publisher that came back. The source
// stream is never touched: the transcoder only reads it.
//
// A rung with ROI (RungROI) favours the faces of the picture: the ladder's
// ffmpeg also writes small grey frames, a few a second, on one more pipe;
// a FaceTracker (ai/roi's, supplied by the server) finds the faces; and the
// region of interest is moved in the running ffmpeg through its zmq filter
// (see roiGrid for how a fixed-box filter is made to move).
package transcode
