package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// SecretKeyEnv is the environment variable that holds the secret key (32 bytes as
// base64 or hex) that seals integration secrets at rest.
const SecretKeyEnv = "INTEGRATIONS_SECRET_KEY"

// KeySize is the length in bytes of the secret key (AES-256).
const KeySize = 32

const (
	sealVersion1 = 1
	nonceSize    = 12 // 96-bit GCM nonce
	tagSize      = 16
	sealOverhead = 1 + nonceSize + tagSize
)

// ErrCannotOpen is returned (wrapped) by Sealer.Open when a sealed value cannot be
// opened: it was sealed with another key or other additional data (another row or
// field), or it was changed since.
var ErrCannotOpen = errors.New("cannot open sealed value: wrong secret key, moved or tampered data")

// Sealer seals and opens values with AES-256-GCM. A sealed value is a version byte,
// a random 96-bit nonce, then the ciphertext and its tag. A Sealer is safe for
// concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts and authenticates plain, binding it to aad (additional data that is
// not stored but must be given again to Open), with a fresh random nonce.
func (s *Sealer) Seal(plain, aad []byte) []byte {
	out := make([]byte, 1+nonceSize, sealOverhead+len(plain))
	out[0] = sealVersion1
	// crypto/rand.Read never returns an error (it crashes the program instead).
	_, _ = rand.Read(out[1 : 1+nonceSize])
	return s.aead.Seal(out, out[1:1+nonceSize], plain, aad)
}

// Open authenticates and decrypts a value made by Seal with the same key and aad. Any
// failure wraps ErrCannotOpen; the result of a successful Open is never nil.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < sealOverhead {
		return nil, fmt.Errorf("sealed value too short (%d bytes): %w", len(sealed), ErrCannotOpen)
	}
	if sealed[0] != sealVersion1 {
		return nil, fmt.Errorf("unknown seal version %d: %w", sealed[0], ErrCannotOpen)
	}
	plain, err := s.aead.Open(make([]byte, 0, len(sealed)-sealOverhead), sealed[1:1+nonceSize], sealed[1+nonceSize:], aad)
	if err != nil {
		return nil, ErrCannotOpen
	}
	return plain, nil
}

// KeyFilePath returns the path of the key file kept beside the SQLite database that
// dsn names (a file path or a "sqlite:" URL): the database path with ".key" appended,
// e.g. "integrations.db.key". It returns "" when dsn names no file (PostgreSQL).
func KeyFilePath(dsn string) string {
	p, err := sqlitePath(dsn)
	if err != nil || p == "" {
		return ""
	}
	return p + ".key"
}

// LoadKey returns the 32-byte secret key. If envValue (the INTEGRATIONS_SECRET_KEY
// value) is not empty it must be 32 bytes as base64 (standard alphabet) or hex.
// Otherwise the key is read from keyFile (one base64 line), which must not be
// accessible by group or others; if keyFile does not exist it is created, with mode
// 0600, holding a new random key, and created is true.
func LoadKey(envValue, keyFile string) (key []byte, created bool, err error) {
	if strings.TrimSpace(envValue) != "" {
		key, err := decodeKey(envValue)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", SecretKeyEnv, err)
		}
		return key, false, nil
	}
	if keyFile == "" {
		return nil, false, fmt.Errorf("no secret key: set %s (32 bytes as base64 or hex) or use a key file", SecretKeyEnv)
	}
	for attempt := 0; ; attempt++ {
		key, err := readKeyFile(keyFile)
		if err == nil {
			return key, false, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || attempt > 0 {
			return nil, false, err
		}
		key, err = createKeyFile(keyFile)
		if errors.Is(err, fs.ErrExist) {
			continue // another process created it meanwhile: read theirs
		}
		if err != nil {
			return nil, false, err
		}
		return key, true, nil
	}
}

// decodeKey decodes a key given as base64 (standard, padded or not) or hex. Its
// errors never contain the value.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	var b []byte
	var err error
	switch {
	case len(s) == 2*KeySize && isHex(s):
		b, err = hex.DecodeString(s)
	case strings.HasSuffix(s, "="):
		b, err = base64.StdEncoding.DecodeString(s)
	default:
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, fmt.Errorf("secret key must be %d bytes encoded as base64 or hex: it is neither", KeySize)
	}
	if len(b) != KeySize {
		return nil, fmt.Errorf("secret key must be %d bytes encoded as base64 or hex, got %d bytes", KeySize, len(b))
	}
	return b, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key file %s is accessible by group or others (mode %04o): run chmod 600 %s",
			path, fi.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	key, err := decodeKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}

func createKeyFile(path string) ([]byte, error) {
	key := make([]byte, KeySize)
	_, _ = rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	// Make the new directory entry durable too (best effort).
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return key, nil
}
