// Package tasks runs file (VOD) processing as durable tasks: a task is an
// input (a local file under an allowed root, an upload, an http(s) URL, a
// watched-folder arrival or a finished recording segment) and a list of
// [vod.Operation]s, queued on NATS JetStream so that a restart loses none
// and several nodes share the work.
//
// Tasks are messages on a work-queue stream; their state lives in a
// JetStream key-value bucket updated with compare-and-set, so a task whose
// node died is redelivered and re-run from the start, while a finished task
// is never run twice and its completion webhook fires once. Schemes are
// named workflows fired by watch folders, recordings or the API. Events go
// to NATS subjects (mps.events.<type>) and to signed, retried webhooks.
//
// For this milestone each operation runs ffmpeg directly on the input file
// instead of publishing the file into the media core in lossless mode.
package tasks
