// Package auth is the one authorizer every door of MPS asks: RTMP, RTSP,
// SRT, WHIP/WHEP, HLS, recordings playback, snapshots, task outputs, the
// REST API, metrics and the console all describe the client as a Request
// and get one answer, so a rule written once holds at every door.
//
// Methods are tried in the configured order and the first that allows wins:
// internal users (argon2id hashes, actions, path patterns, client IP
// ranges), JWT bearer tokens verified against a JWKS URL, and an HTTP
// callback. Failed logins are counted per client IP: after a few the answer
// is delayed, after more the IP is refused for a while.
package auth
