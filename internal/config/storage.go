package config

import (
	"fmt"
	"regexp"
)

// StorageTarget is a named place MPS reads and writes files: the local
// disk or an S3-compatible bucket (AWS, MinIO, SeaweedFS, Ceph, R2...).
// Recording rules, task inputs ("s3://NAME/key"), scheme outputs and bucket
// triggers name a target.
type StorageTarget struct {
	// Name identifies the target: 1 to 64 letters, digits, _ or -.
	Name string `yaml:"name" json:"name"`
	// Kind is local or s3.
	Kind string `yaml:"kind" json:"kind"`
	// Dir is a local target's root; relative paths are under
	// storage.data_dir.
	Dir string `yaml:"dir" json:"dir,omitempty"`
	// Endpoint is an s3 target's host[:port] (no scheme), e.g.
	// s3.eu-west-1.amazonaws.com or 127.0.0.1:8333.
	Endpoint string `yaml:"endpoint" json:"endpoint,omitempty"`
	// Region is sent with signed requests (default us-east-1).
	Region string `yaml:"region" json:"region,omitempty"`
	// Bucket holds the objects; Prefix is put before every key.
	Bucket string `yaml:"bucket" json:"bucket,omitempty"`
	Prefix string `yaml:"prefix" json:"prefix,omitempty"`
	// AccessKeyEnv and SecretKeyEnv name the environment variables holding
	// the credentials (default AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY);
	// CredentialsFile, when set, is read instead: lines of
	// AWS_ACCESS_KEY_ID=... and AWS_SECRET_ACCESS_KEY=.... Keys never sit
	// in this file, so /api/v1/config cannot show them.
	AccessKeyEnv    string `yaml:"access_key_env" json:"access_key_env,omitempty"`
	SecretKeyEnv    string `yaml:"secret_key_env" json:"secret_key_env,omitempty"`
	CredentialsFile string `yaml:"credentials_file" json:"credentials_file,omitempty"`
	// PathStyle addresses the bucket as host/bucket rather than
	// bucket.host (MinIO, SeaweedFS and most self-hosted stores need it).
	PathStyle bool `yaml:"path_style" json:"path_style"`
	// TLS uses https to reach the endpoint.
	TLS bool `yaml:"tls" json:"tls"`
	// PresignExpiry is how long the presigned URLs handed out for this
	// target's objects stay valid (default 1h).
	PresignExpiry Duration `yaml:"presign_expiry" json:"presign_expiry"`
}

// Storage target kinds.
const (
	StorageLocal = "local"
	StorageS3    = "s3"
)

var targetNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Target returns the storage target called name.
func (s Storage) Target(name string) (StorageTarget, bool) {
	for _, t := range s.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return StorageTarget{}, false
}

// storage validates the storage section.
func (v *validator) storage(s Storage) error {
	seen := map[string]bool{}
	for i, t := range s.Targets {
		key := fmt.Sprintf("storage.targets[%d]", i)
		if !targetNameRE.MatchString(t.Name) {
			return v.errorf(key+".name", "invalid target name %q: 1 to 64 letters, digits, _ or -", t.Name)
		}
		if seen[t.Name] {
			return v.errorf(key+".name", "duplicate target name %q", t.Name)
		}
		seen[t.Name] = true
		if err := v.oneOf(key+".kind", t.Kind, StorageLocal, StorageS3); err != nil {
			return err
		}
		switch t.Kind {
		case StorageLocal:
			if t.Dir == "" {
				return v.errorf(key+".dir", "a local target needs a dir")
			}
		case StorageS3:
			if t.Endpoint == "" {
				return v.errorf(key+".endpoint", "an s3 target needs an endpoint (host:port)")
			}
			if !regexp.MustCompile(`^[^/:\s]+(:[0-9]{1,5})?$`).MatchString(t.Endpoint) {
				return v.errorf(key+".endpoint", "want host[:port] without a scheme or path, got %q", t.Endpoint)
			}
			if t.Bucket == "" {
				return v.errorf(key+".bucket", "an s3 target needs a bucket")
			}
		}
		if t.PresignExpiry < 0 {
			return v.errorf(key+".presign_expiry", "must not be negative")
		}
	}
	return nil
}
