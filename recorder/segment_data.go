package recorder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"

	"mps/internal/storage"
)

// segmentData is a segment's bytes, read at offsets: the local file or,
// once it is only in a bucket, the stored object.
type segmentData interface {
	io.ReaderAt
	io.Closer
}

// openData opens seg's bytes: the local file while there is one, else
// its copy in the storage target it was uploaded to (proxied reads, in
// blocks, so a player's small range reads cost few requests).
func (m *Manager) openData(ctx context.Context, seg Segment) (segmentData, error) {
	if !seg.remoteOnly {
		f, err := os.Open(seg.file)
		if err == nil || seg.Target == "" || !errors.Is(err, fs.ErrNotExist) {
			return f, err
		}
	}
	tg, err := m.target(seg.Target)
	if err != nil {
		return nil, err
	}
	r, _, err := tg.Open(ctx, m.key(seg.file))
	if err != nil {
		return nil, err
	}
	ra, ok := r.(io.ReaderAt)
	if !ok {
		ra = &seekReaderAt{r: r}
	}
	return &blockReader{r: ra, c: r, size: seg.Size}, nil
}

// target returns the configured storage target called name.
func (m *Manager) target(name string) (storage.Target, error) {
	if m.cfg.Targets != nil {
		if tg, ok := m.cfg.Targets(name); ok {
			return tg, nil
		}
	}
	return nil, fmt.Errorf("storage target %q is not configured", name)
}

// blockSize is what one read of a stored object fetches.
const blockSize = 1 << 20

// blockReader reads an object in aligned blocks and keeps the last two,
// so the many small reads of a box walk or an HTTP range copy become a
// few requests to the store.
type blockReader struct {
	r    io.ReaderAt
	c    io.Closer
	size int64

	mu     sync.Mutex
	blocks [2]block
	next   int
}

type block struct {
	off  int64
	data []byte
}

func (b *blockReader) Close() error { return b.c.Close() }

func (b *blockReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		if off >= b.size {
			return n, io.EOF
		}
		blk, err := b.block(off - off%blockSize)
		if err != nil {
			return n, err
		}
		i := int(off - blk.off)
		if i >= len(blk.data) {
			return n, io.EOF
		}
		c := copy(p[n:], blk.data[i:])
		n += c
		off += int64(c)
	}
	return n, nil
}

func (b *blockReader) block(off int64) (block, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, blk := range b.blocks {
		if blk.data != nil && blk.off == off {
			return blk, nil
		}
	}
	buf := make([]byte, min(blockSize, b.size-off))
	n, err := b.r.ReadAt(buf, off)
	if n < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return block{}, fmt.Errorf("read stored segment at %d: %w", off, err)
	}
	blk := block{off: off, data: buf}
	b.blocks[b.next] = blk
	b.next = (b.next + 1) % len(b.blocks)
	return blk, nil
}

// seekReaderAt reads at offsets from a reader that can only seek.
type seekReaderAt struct {
	mu sync.Mutex
	r  io.ReadSeeker
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(s.r, p)
}
