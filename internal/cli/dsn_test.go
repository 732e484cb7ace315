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

// TestCheckKeyStrength: operator admin keys need about 128 bits.
func TestCheckKeyStrength(t *testing.T) {
	for _, c := range []struct {
		key string
		ok  bool
	}{
		{"aaaaaaaaaaaaaaaa", false},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"abababababababababababababababababababab", false},
		{"9f86d081884c7d659a2feaa0c55ad015", true},             // 32 hex digits: 128 bits
		{"9f86d081884c7d659a2feaa0c55ad01", false},             // 31
		{"q3V7nZ0pXk2LmR8tYw4BcF6hJ9sDgA1e", true},             // 32 base64 characters
		{"e2e-admin-key-7Qm2Xv9Lp4Rz8Kt3Wn6Bd1Hs5Gf0Jc", true}, // long, mixed
	} {
		err := checkKeyStrength(c.key)
		if (err == nil) != c.ok {
			t.Errorf("checkKeyStrength(%q) = %v, want ok=%t", c.key, err, c.ok)
		}
	}
}
