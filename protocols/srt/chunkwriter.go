package srt

import "io"

// chunkSize is the conventional SRT payload for MPEG-TS: seven 188-byte
// packets, which every SRT receiver accepts.
const chunkSize = 7 * 188

// chunkWriter groups the muxer's 188-byte packets into chunkSize writes,
// because each Write on an SRT connection is one SRT packet.
type chunkWriter struct {
	w   io.Writer
	buf []byte
}

func newChunkWriter(w io.Writer) *chunkWriter {
	return &chunkWriter{w: w, buf: make([]byte, 0, chunkSize)}
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := copy(c.buf[len(c.buf):cap(c.buf)], p)
		c.buf = c.buf[:len(c.buf)+k]
		p = p[k:]
		if len(c.buf) == cap(c.buf) {
			if err := c.Flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// Flush sends what is buffered, so that a unit is not held back waiting
// for the next one.
func (c *chunkWriter) Flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.w.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}
