// Package storage reads and writes files in named storage targets: a local
// folder or an S3-compatible bucket (through minio-go, which speaks to AWS,
// MinIO, SeaweedFS, Ceph and R2 and does the signing; MPS never signs a
// request itself).
//
// One Target interface serves both kinds, so the recorder, the task
// service and bucket triggers treat the local disk and a bucket alike:
// PutFile uploads with checksums the store verifies (Content-MD5 on every
// part) and confirms the stored size before it reports success, so a
// caller may delete its local copy only after PutFile returned nil.
package storage
