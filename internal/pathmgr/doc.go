// Package pathmgr owns the table of live paths: it admits one publisher per
// path (or lets a new one take over when the path's rule says so), checks
// credentials, hands readers the path's stream, and announces every stream's
// start and end on the event bus so the recorder, HLS packager, transcoder
// and webhooks can follow. It implements stream.Hub for the protocol
// adapters.
package pathmgr
