package storage

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"mps/internal/config"
)

// s3Target is a bucket (and key prefix) on an S3-compatible store.
type s3Target struct {
	name   string
	bucket string
	prefix string
	expiry time.Duration
	c      *minio.Client
}

func newS3(t config.StorageTarget, hc *http.Client) (*s3Target, error) {
	ak, sk, err := credentialsOf(t)
	if err != nil {
		return nil, err
	}
	opts := &minio.Options{
		Creds:  credentials.NewStaticV4(ak, sk, ""),
		Secure: t.TLS,
		Region: t.Region,
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if t.PathStyle {
		opts.BucketLookup = minio.BucketLookupPath
	}
	if hc != nil && hc.Transport != nil {
		opts.Transport = hc.Transport
	}
	c, err := minio.New(t.Endpoint, opts)
	if err != nil {
		return nil, fmt.Errorf("storage target %s: %w", t.Name, err)
	}
	expiry := t.PresignExpiry.D()
	if expiry <= 0 {
		expiry = time.Hour
	}
	return &s3Target{name: t.Name, bucket: t.Bucket, prefix: t.Prefix, expiry: expiry, c: c}, nil
}

// credentialsOf reads a target's keys from its credentials file or its
// environment variables.
func credentialsOf(t config.StorageTarget) (access, secret string, err error) {
	akEnv, skEnv := t.AccessKeyEnv, t.SecretKeyEnv
	if akEnv == "" {
		akEnv = "AWS_ACCESS_KEY_ID"
	}
	if skEnv == "" {
		skEnv = "AWS_SECRET_ACCESS_KEY"
	}
	if t.CredentialsFile == "" {
		return os.Getenv(akEnv), os.Getenv(skEnv), nil
	}
	f, err := os.Open(t.CredentialsFile)
	if err != nil {
		return "", "", fmt.Errorf("storage target %s: credentials: %w", t.Name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		switch {
		case !ok:
		case k == "AWS_ACCESS_KEY_ID":
			access = v
		case k == "AWS_SECRET_ACCESS_KEY":
			secret = v
		}
	}
	if access == "" || secret == "" {
		return "", "", fmt.Errorf("storage target %s: %s lacks AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY", t.Name, t.CredentialsFile)
	}
	return access, secret, sc.Err()
}

func (s *s3Target) Name() string { return s.name }

func (s *s3Target) full(key string) string { return s.prefix + key }

// wrap names the target and key in an error and maps a missing object
// to ErrNotFound, keeping the store's own code and message.
func (s *s3Target) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if r := minio.ToErrorResponse(err); r.Code == "NoSuchKey" || r.StatusCode == http.StatusNotFound && r.Code != "NoSuchBucket" {
		return fmt.Errorf("storage %s: %s %s: %w", s.name, op, key, ErrNotFound)
	}
	return fmt.Errorf("storage %s: %s %s: %w", s.name, op, key, err)
}

func (s *s3Target) PutFile(ctx context.Context, key, path, contentType string) (Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Object{}, err
	}
	return s.Put(ctx, key, f, fi.Size(), contentType)
}

func (s *s3Target) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (Object, error) {
	if err := checkKey(key); err != nil {
		return Object{}, err
	}
	info, err := s.c.PutObject(ctx, s.bucket, s.full(key), r, size, minio.PutObjectOptions{
		ContentType:    contentType,
		SendContentMd5: true, // the store checks every part against it
		PartSize:       16 << 20,
	})
	if err != nil {
		return Object{}, s.wrap("put", key, err)
	}
	st, err := s.Stat(ctx, key)
	if err != nil {
		return Object{}, err
	}
	if size >= 0 && st.Size != size {
		return Object{}, fmt.Errorf("storage %s: put %s: stored %d bytes of %d", s.name, key, st.Size, size)
	}
	st.ETag = info.ETag
	return st, nil
}

func (s *s3Target) Open(ctx context.Context, key string) (io.ReadSeekCloser, Object, error) {
	if err := checkKey(key); err != nil {
		return nil, Object{}, err
	}
	o, err := s.c.GetObject(ctx, s.bucket, s.full(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, Object{}, s.wrap("get", key, err)
	}
	st, err := o.Stat()
	if err != nil {
		o.Close()
		return nil, Object{}, s.wrap("get", key, err)
	}
	return o, Object{Key: key, Size: st.Size, ETag: st.ETag, Modified: st.LastModified}, nil
}

func (s *s3Target) Stat(ctx context.Context, key string) (Object, error) {
	if err := checkKey(key); err != nil {
		return Object{}, err
	}
	st, err := s.c.StatObject(ctx, s.bucket, s.full(key), minio.StatObjectOptions{})
	if err != nil {
		return Object{}, s.wrap("stat", key, err)
	}
	return Object{Key: key, Size: st.Size, ETag: st.ETag, Modified: st.LastModified}, nil
}

func (s *s3Target) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return s.wrap("delete", key, s.c.RemoveObject(ctx, s.bucket, s.full(key), minio.RemoveObjectOptions{}))
}

func (s *s3Target) List(ctx context.Context, prefix, startAfter string, max int) ([]Object, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing goroutine when we return early
	opts := minio.ListObjectsOptions{Prefix: s.full(prefix), Recursive: true}
	if startAfter != "" {
		opts.StartAfter = s.full(startAfter)
	}
	var out []Object
	for o := range s.c.ListObjects(ctx, s.bucket, opts) {
		if o.Err != nil {
			return nil, s.wrap("list", prefix, o.Err)
		}
		out = append(out, Object{Key: strings.TrimPrefix(o.Key, s.prefix), Size: o.Size, ETag: o.ETag, Modified: o.LastModified})
		if max > 0 && len(out) == max {
			break
		}
	}
	return out, nil
}

func (s *s3Target) URL(ctx context.Context, key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	u, err := s.c.PresignedGetObject(ctx, s.bucket, s.full(key), s.expiry, nil)
	if err != nil {
		return "", s.wrap("presign", key, err)
	}
	return u.String(), nil
}
