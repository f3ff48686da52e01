package config

// This file holds the settings of the cluster bus and the VOD task runner.

// NATS configures the message bus tasks and events travel on: an external
// NATS server, or one embedded in the process.
type NATS struct {
	// URL of an external NATS server (nats://host:4222; several may be
	// given comma-separated); empty runs an embedded server.
	URL string `yaml:"url" json:"url,omitempty"`
	// Listen is the address the embedded server accepts other nodes and
	// clients on; empty keeps it in-process only.
	Listen string `yaml:"listen" json:"listen,omitempty"`
	// StoreDir holds the embedded server's JetStream data; a relative path
	// is under storage.data_dir.
	StoreDir string `yaml:"store_dir" json:"store_dir"`
}

// Tasks configures the VOD task runner (transcode, thumbnail, … jobs).
type Tasks struct {
	// Concurrency is how many tasks run at once on this node.
	Concurrency int `yaml:"concurrency" json:"concurrency"`
	// UploadLimit caps the size of one uploaded input file.
	UploadLimit ByteSize `yaml:"upload_limit" json:"upload_limit"`
	// InputRoots are extra directories tasks may read local input files
	// from; relative paths are under storage.data_dir.
	InputRoots []string `yaml:"input_roots" json:"input_roots"`
	// OutputDir receives task outputs; a relative path is under
	// storage.data_dir.
	OutputDir string `yaml:"output_dir" json:"output_dir"`
	// KeepFor is how long an ended task's record and outputs, and an
	// upload, are kept before the service deletes them; 0 keeps them for
	// ever. A scheme's keep_for overrides it for that scheme's tasks.
	KeepFor Duration `yaml:"keep_for" json:"keep_for"`
	// AllowPrivateURLs lets task input URLs and webhooks reach loopback,
	// private, link-local and other non-public addresses; off, such a URL
	// is refused after DNS resolution and on every redirect, so a user who
	// may submit a URL cannot make the server fetch its own API or the
	// cloud metadata service.
	AllowPrivateURLs bool `yaml:"allow_private_urls" json:"allow_private_urls"`
	// URLAllowlist lists exceptions to that refusal: CIDRs, IPs, IP:port,
	// host names or host:port of internal services tasks may fetch from or
	// webhooks may post to.
	URLAllowlist []string `yaml:"url_allowlist" json:"url_allowlist"`
}

// Webhook is one HTTP endpoint events are POSTed to.
type Webhook struct {
	// URL is the http(s) endpoint.
	URL string `yaml:"url" json:"url"`
	// Secret signs each request so the receiver can check it came from
	// this server; empty sends unsigned requests.
	Secret string `yaml:"secret" json:"secret,omitempty"`
	// Events lists the event types sent; empty sends all.
	Events []string `yaml:"events" json:"events,omitempty"`
}
