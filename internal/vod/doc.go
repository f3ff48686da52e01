// Package vod runs file (video on demand) operations — transcode, adaptive
// HLS packaging, snapshots, samples, sprites, animated previews, watermarks,
// enhancement, remux and probe — as ffmpeg/ffprobe child processes.
//
// Every operation is an [Operation] value: a tagged union that is as easy to
// write in a YAML template as in a JSON task request. Arguments are built as
// argument lists and executed directly (never through a shell); cancelling
// the context kills the child, and progress comes from ffmpeg's
// "-progress pipe:1" output measured against the input's duration.
//
// For this milestone each operation runs ffmpeg on the input file itself
// rather than demuxing the file into the media core; the results are the same
// and the process model is much simpler.
package vod
