package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"mps/internal/config"
)

// localTarget is a folder on the local disk. Keys map to files below its
// root; writes go to a temporary name and are renamed into place, so a
// reader never sees half a file and a crash leaves none.
type localTarget struct {
	name string
	root string
}

func newLocal(t config.StorageTarget, dataDir string) (*localTarget, error) {
	root := t.Dir
	if !filepath.IsAbs(root) {
		root = filepath.Join(dataDir, root)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("storage target %s: %w", t.Name, err)
	}
	return &localTarget{name: t.Name, root: root}, nil
}

func (l *localTarget) Name() string { return l.name }

func (l *localTarget) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

func (l *localTarget) PutFile(ctx context.Context, key, path, contentType string) (Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	return l.Put(ctx, key, f, -1, contentType)
}

func (l *localTarget) Put(ctx context.Context, key string, r io.Reader, size int64, _ string) (Object, error) {
	p, err := l.path(key)
	if err != nil {
		return Object{}, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return Object{}, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return Object{}, err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	n, err := io.Copy(tmp, r)
	if err == nil && size >= 0 && n != size {
		err = fmt.Errorf("wrote %d bytes of %d", n, size)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		return Object{}, fmt.Errorf("storage %s: put %s: %w", l.name, key, err)
	}
	o, err := l.Stat(ctx, key)
	if err == nil && size >= 0 && o.Size != size {
		err = fmt.Errorf("storage %s: put %s: stored %d bytes of %d", l.name, key, o.Size, size)
	}
	return o, err
}

func (l *localTarget) Open(ctx context.Context, key string) (io.ReadSeekCloser, Object, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, Object{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, Object{}, l.wrap("get", key, err)
	}
	o, err := l.Stat(ctx, key)
	if err != nil {
		f.Close()
		return nil, Object{}, err
	}
	return f, o, nil
}

func (l *localTarget) Stat(_ context.Context, key string) (Object, error) {
	p, err := l.path(key)
	if err != nil {
		return Object{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return Object{}, l.wrap("stat", key, err)
	}
	if !fi.Mode().IsRegular() {
		return Object{}, fmt.Errorf("storage %s: stat %s: %w", l.name, key, ErrNotFound)
	}
	return localObject(key, fi), nil
}

// localObject describes a file; its ETag is made of size and modification
// time, so a rewritten file counts as a new version like on S3.
func localObject(key string, fi fs.FileInfo) Object {
	return Object{Key: key, Size: fi.Size(), Modified: fi.ModTime().UTC(),
		ETag: fmt.Sprintf("%x-%x", fi.Size(), fi.ModTime().UnixNano())}
}

func (l *localTarget) wrap(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage %s: %s %s: %w", l.name, op, key, ErrNotFound)
	}
	return fmt.Errorf("storage %s: %s %s: %w", l.name, op, key, err)
}

func (l *localTarget) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return l.wrap("delete", key, err)
	}
	return nil
}

func (l *localTarget) List(ctx context.Context, prefix, startAfter string, max int) ([]Object, error) {
	var out []Object
	err := filepath.WalkDir(l.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".put-") {
			return err
		}
		key := filepath.ToSlash(strings.TrimPrefix(p, l.root+string(filepath.Separator)))
		if !strings.HasPrefix(key, prefix) || key <= startAfter {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		out = append(out, localObject(key, fi))
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("storage %s: list %s: %w", l.name, prefix, err)
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out, nil
}

func (l *localTarget) URL(_ context.Context, key string) (string, error) {
	return l.path(key)
}
