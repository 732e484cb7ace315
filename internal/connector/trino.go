package connector

// Trino has no platform to reach: no tests and no live connector (its API key is the
// server's own).
func init() { register(Registration{Type: "Trino"}) }
