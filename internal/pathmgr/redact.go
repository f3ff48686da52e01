package pathmgr

import redactpkg "mps/internal/redact"

// redact hides the secrets of a URL (password, token and passphrase
// parameters) for logs and the API.
func redact(s string) string { return redactpkg.URL(s) }
