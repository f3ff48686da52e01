package srt

// chunkSize is the conventional SRT payload for MPEG-TS: seven 188-byte
// packets, which every SRT receiver accepts. The server and Push set it as
// gosrt's payload size, so that gosrt cuts each written unit into whole
// TS packets.
const chunkSize = 7 * 188
