// Package layering holds no code: its test checks that imports in MPS go
// one way. The foundation (internal/...) imports no service; services
// (protocols, hls, recorder, transcode, tasks, ai, web) import no
// composition root; nothing but cmd imports server/; and the protocol
// adapters' test binaries hold no VOD, task, AI or config-parsing code.
// A change that breaks the house fails `make test` here, not in review.
package layering
