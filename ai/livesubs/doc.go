// Package livesubs subtitles live streams. For each published stream
// whose path rule enables it, one recogniser reads the path's audio from
// the ring (a Reader, like every other output), feeds it as MPEG-TS to
// ffmpeg, which hands 16 kHz mono PCM to pocketsphinx_continuous; every
// finished utterance is cut into cues and published to the path's
// subscribers as Server-Sent Events. A recogniser that dies is restarted
// with backoff, like the ladder's ffmpeg; the stream never notices.
package livesubs
