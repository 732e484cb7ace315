package cli

import "testing"

// TestRedactDSN: the logged store value never shows a password.
func TestRedactDSN(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"integrations.db", "integrations.db"},
		{"sqlite:/var/lib/x.db", "sqlite:/var/lib/x.db"},
		{"postgres://app:s3cret@db:5432/x?sslmode=disable", "postgres://app:REDACTED@db:5432/x?sslmode=disable"},
		{"postgresql://app:p%40ss@db/x", "postgresql://app:REDACTED@db/x"},
		{"postgres://app@db/x?password=s3cret&sslmode=require", "postgres://app@db/x?password=REDACTED&sslmode=require"},
		{"postgres://app@db/x", "postgres://app@db/x"},
		{"postgres://a:b@[::1", "<REDACTED>"},
	} {
		if got := redactDSN(c.in); got != c.want {
			t.Errorf("redactDSN(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
