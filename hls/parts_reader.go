package hls

import (
	"errors"
	"io"
)

// partsReader reads a segment that is the sequence of its parts, for
// http.ServeContent (which seeks to learn the size and to serve ranges),
// without copying the parts into one buffer.
type partsReader struct {
	bufs [][]byte
	size int64
	pos  int64
}

func newPartsReader(bufs [][]byte) *partsReader {
	r := &partsReader{bufs: bufs}
	for _, b := range bufs {
		r.size += int64(len(b))
	}
	return r
}

func (r *partsReader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	n := 0
	off := r.pos
	for _, b := range r.bufs {
		if n == len(p) {
			break
		}
		if off >= int64(len(b)) {
			off -= int64(len(b))
			continue
		}
		c := copy(p[n:], b[off:])
		n += c
		off = 0
	}
	r.pos += int64(n)
	return n, nil
}

func (r *partsReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("partsReader: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("partsReader: negative position")
	}
	r.pos = offset
	return offset, nil
}
