// Package webrtctest holds real pion WHIP/WHEP clients for integration
// tests. The WebRTC adapter's tests and the server's cross-protocol matrix
// (every publisher × every reader) both need a genuine browser-like peer
// on loopback; keeping one copy here means a fix to the clients (pacing,
// depacketizing, ICE settings) reaches every test at once.
//
// Typical use:
//
//	m, _ := webrtctest.MakeMedia(ctx, t.TempDir())
//	pub, _ := webrtctest.Publish(ctx, base+"/webrtc/live/x/whip", webrtctest.PublishOptions{Media: m, Loop: true})
//	defer pub.Close()
//	pl, _ := webrtctest.Play(ctx, base+"/webrtc/live/x/whep", webrtctest.PlayOptions{})
//	defer pl.Close()
//	_ = pl.WaitFrames(ctx, 60)
//
// The package is for tests only: it is not hardened against hostile peers
// and it spends goroutines freely.
package webrtctest
