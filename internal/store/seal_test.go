package store_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/openintegrations/integrations/internal/store"
)

func newSealer(t testing.TB) *store.Sealer {
	t.Helper()
	s, err := store.NewSealer(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSealerKeyLength(t *testing.T) {
	for _, n := range []int{0, 1, 16, 24, 31, 33, 64} {
		if _, err := store.NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer(%d-byte key) succeeded", n)
		}
	}
	if _, err := store.NewSealer(make([]byte, 32)); err != nil {
		t.Errorf("NewSealer(32-byte key): %v", err)
	}
}

func TestSealRoundTrip(t *testing.T) {
	s := newSealer(t)
	for _, tc := range []struct {
		name       string
		plain, aad []byte
	}{
		{"empty", []byte{}, nil},
		{"nil", nil, []byte("x")},
		{"short", []byte(`{"password":"hunter2"}`), []byte("integrations/1/config")},
		{"binary", []byte{0, 1, 2, 255, 254}, []byte{0}},
		{"big", bytes.Repeat([]byte("secret "), 1<<17), []byte("integrations/99/credentials")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := s.Seal(tc.plain, tc.aad)
			b := s.Seal(tc.plain, tc.aad)
			if bytes.Equal(a, b) {
				t.Fatal("two seals of the same value are equal: the nonce is not random")
			}
			if len(a) != len(tc.plain)+1+12+16 {
				t.Fatalf("sealed length %d for %d bytes, want plain + 29", len(a), len(tc.plain))
			}
			if len(tc.plain) > 4 && bytes.Contains(a, tc.plain) {
				t.Fatal("the sealed value contains the plaintext")
			}
			if a[0] != 1 {
				t.Fatalf("version byte %d, want 1", a[0])
			}
			for _, sealed := range [][]byte{a, b} {
				got, err := s.Open(sealed, tc.aad)
				if err != nil || got == nil || !bytes.Equal(got, tc.plain) {
					t.Fatalf("Open = %d bytes (nil: %v), %v", len(got), got == nil, err)
				}
			}
		})
	}
}

func TestSealTamper(t *testing.T) {
	s := newSealer(t)
	plain, aad := []byte(`{"password":"hunter2"}`), []byte("integrations/1/config")
	sealed := s.Seal(plain, aad)
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x80
		return b
	}
	tests := []struct {
		name   string
		sealed []byte
		aad    []byte
		sealer *store.Sealer
	}{
		{"version byte", flip(0), aad, s},
		{"nonce", flip(5), aad, s},
		{"ciphertext", flip(1 + 12 + 3), aad, s},
		{"tag", flip(len(sealed) - 1), aad, s},
		{"truncated", sealed[:len(sealed)-1], aad, s},
		{"too short", sealed[:28], aad, s},
		{"empty", nil, aad, s},
		{"extended", append(bytes.Clone(sealed), 0), aad, s},
		{"other aad (row)", sealed, []byte("integrations/2/config"), s},
		{"other aad (field)", sealed, []byte("integrations/1/pending"), s},
		{"no aad", sealed, nil, s},
		{"other key", sealed, aad, newSealer(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sealer.Open(tt.sealed, tt.aad)
			if !errors.Is(err, store.ErrCannotOpen) || got != nil {
				t.Fatalf("Open = %q, %v; want ErrCannotOpen", got, err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatal("the error shows the plaintext")
			}
		})
	}
}

func FuzzSealerOpen(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := store.NewSealer(key)
	if err != nil {
		f.Fatal(err)
	}
	valid := s.Seal([]byte("hello"), []byte("aad"))
	f.Add(valid, []byte("aad"))
	f.Add(valid[:29], []byte("aad"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1}, []byte(nil))
	f.Add(append([]byte{2}, valid[1:]...), []byte("aad"))
	f.Add(bytes.Repeat([]byte{1}, 29), []byte("x"))
	f.Fuzz(func(t *testing.T, sealed, aad []byte) {
		got, err := s.Open(sealed, aad)
		if err != nil {
			if !errors.Is(err, store.ErrCannotOpen) || got != nil {
				t.Fatalf("Open failed with %v (result %v)", err, got)
			}
			return
		}
		// Only a genuine seal opens: re-sealing and opening must agree.
		if again, err := s.Open(s.Seal(got, aad), aad); err != nil || !bytes.Equal(again, got) {
			t.Fatalf("round trip of an opened value failed: %v", err)
		}
		if bytes.Equal(sealed, valid) && string(got) != "hello" {
			t.Fatalf("the valid seed opened to %q", got)
		}
	})
}

func TestLoadKeyFromEnv(t *testing.T) {
	key := newKey(t)
	tests := []struct {
		name, env string
		wantErr   string // "" for success
	}{
		{"base64", base64.StdEncoding.EncodeToString(key), ""},
		{"base64 unpadded", base64.RawStdEncoding.EncodeToString(key), ""},
		{"hex", hex.EncodeToString(key), ""},
		{"hex upper case", strings.ToUpper(hex.EncodeToString(key)), ""},
		{"surrounding space", "  " + base64.StdEncoding.EncodeToString(key) + "\n", ""},
		{"16 bytes", base64.StdEncoding.EncodeToString(key[:16]), "got 16 bytes"},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(key, 1)), "got 33 bytes"},
		{"short hex", hex.EncodeToString(key[:31]), "32 bytes"},
		{"garbage", "this is not a key!!", "neither"},
		{"url-safe base64", strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16))), "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keyFile := filepath.Join(t.TempDir(), "db.key")
			got, created, err := store.LoadKey(tt.env, keyFile)
			if _, statErr := os.Stat(keyFile); statErr == nil {
				t.Error("a key file was created although the environment gives the key")
			}
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("LoadKey succeeded")
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), store.SecretKeyEnv) {
					t.Fatalf("error %q does not say %q and name %s", err, tt.wantErr, store.SecretKeyEnv)
				}
				if strings.Contains(err.Error(), strings.TrimSpace(tt.env)) {
					t.Fatalf("error %q shows the value", err)
				}
				return
			}
			if err != nil || created || !bytes.Equal(got, key) {
				t.Fatalf("LoadKey = %x, %v, %v; want the key", got, created, err)
			}
		})
	}
}

func TestLoadKeyFile(t *testing.T) {
	t.Run("created then read", func(t *testing.T) {
		old := syscall.Umask(0)
		defer syscall.Umask(old)
		keyFile := filepath.Join(t.TempDir(), "integrations.db.key")
		key, created, err := store.LoadKey("", keyFile)
		if err != nil || !created || len(key) != 32 {
			t.Fatalf("LoadKey = %d bytes, created %v, %v", len(key), created, err)
		}
		fi, err := os.Stat(keyFile)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v, %v; want 0600", fi.Mode(), err)
		}
		b, _ := os.ReadFile(keyFile)
		if string(b) != base64.StdEncoding.EncodeToString(key)+"\n" {
			t.Fatalf("key file holds %q, want a base64 line", b)
		}
		again, created, err := store.LoadKey("", keyFile)
		if err != nil || created || !bytes.Equal(again, key) {
			t.Fatalf("second LoadKey = %v, created %v, %v; want the same key", again, created, err)
		}
		other := newKey(t)
		fromEnv, _, err := store.LoadKey(hex.EncodeToString(other), keyFile)
		if err != nil || !bytes.Equal(fromEnv, other) {
			t.Fatalf("the environment must win over the key file: %v", err)
		}
	})
	key := newKey(t)
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		wantErr string
	}{
		{"base64 line", base64.StdEncoding.EncodeToString(key) + "\n", 0o600, ""},
		{"hex", hex.EncodeToString(key), 0o400, ""},
		{"group readable", base64.StdEncoding.EncodeToString(key), 0o640, "chmod 600"},
		{"world readable", base64.StdEncoding.EncodeToString(key), 0o644, "group or others"},
		{"group writable", base64.StdEncoding.EncodeToString(key), 0o620, "group or others"},
		{"wrong length", base64.StdEncoding.EncodeToString(key[:20]), 0o600, "got 20 bytes"},
		{"garbage", "not-a-key at all", 0o600, "neither"},
		{"empty", "", 0o600, "got 0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keyFile := filepath.Join(t.TempDir(), "x.key")
			if err := os.WriteFile(keyFile, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(keyFile, tt.mode); err != nil {
				t.Fatal(err)
			}
			got, created, err := store.LoadKey("", keyFile)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadKey = %v, want an error saying %q", err, tt.wantErr)
				}
				if tt.content != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.content)) {
					t.Fatalf("error %q shows the file's content", err)
				}
				if b, _ := os.ReadFile(keyFile); string(b) != tt.content {
					t.Fatal("LoadKey changed a bad key file")
				}
				return
			}
			if err != nil || created || !bytes.Equal(got, key) {
				t.Fatalf("LoadKey = %x, %v, %v", got, created, err)
			}
		})
	}
	t.Run("no key at all", func(t *testing.T) {
		_, _, err := store.LoadKey("", "")
		if err == nil || !strings.Contains(err.Error(), store.SecretKeyEnv) {
			t.Fatalf("LoadKey without env or file = %v, want an error naming %s", err, store.SecretKeyEnv)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		if _, _, err := store.LoadKey("", filepath.Join(t.TempDir(), "nope", "x.key")); err == nil {
			t.Fatal("LoadKey in a missing directory succeeded")
		}
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.LoadKey("", dir); err == nil || !strings.Contains(err.Error(), "regular file") {
			t.Fatalf("LoadKey of a directory = %v", err)
		}
	})
}

func TestKeyFilePath(t *testing.T) {
	for dsn, want := range map[string]string{
		"integrations.db":                 "integrations.db.key",
		"/var/lib/x/integrations.db":      "/var/lib/x/integrations.db.key",
		"sqlite:/var/lib/integrations.db": "/var/lib/integrations.db.key",
		"sqlite:///data/i.db":             "/data/i.db.key",
		"postgres://u:p@h/db":             "",
		"":                                "",
	} {
		if got := store.KeyFilePath(dsn); got != want {
			t.Errorf("KeyFilePath(%q) = %q, want %q", dsn, got, want)
		}
	}
}
