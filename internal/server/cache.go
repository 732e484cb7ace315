package server

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// DefaultAuthTTL bounds how long a successful API key lookup is reused. A key revoked
// by another process (`integrations keys revoke`, another replica) stops working within
// it; keys this server rotates (Trino regenerate) stop at once, because the rotation
// empties the cache.
const DefaultAuthTTL = 2 * time.Second

// authCache remembers recently authenticated keys by the SHA-256 of the key (never the
// key itself). Failed lookups are not cached, so new keys work at once.
type authCache struct {
	ttl time.Duration
	// now is the server's clock (Options.Now).
	now     func() time.Time
	mu      sync.Mutex
	entries map[[32]byte]authEntry
}

type authEntry struct {
	key     *store.APIKey
	expires time.Time
}

const authCacheMax = 1024

func (c *authCache) get(plain string) (*store.APIKey, [32]byte, bool) {
	h := sha256.Sum256([]byte(plain))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[h]
	if !ok || c.now().After(e.expires) {
		return nil, h, false
	}
	return e.key, h, true
}

func (c *authCache) put(h [32]byte, k *store.APIKey) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= authCacheMax {
		c.entries = map[[32]byte]authEntry{}
	}
	c.entries[h] = authEntry{key: k, expires: c.now().Add(c.ttl)}
}

// reset forgets every key (after this server changed keys).
func (c *authCache) reset() {
	c.mu.Lock()
	c.entries = nil
	c.mu.Unlock()
}

// viewCache keeps the encoded GET body of integrations by id and version. An
// integration's body depends only on its stored row, and every write bumps the version,
// so an entry is used only for the exact row the store just returned.
type viewCache struct {
	mu      sync.Mutex
	entries map[int64]viewEntry
	bytes   int
}

type viewEntry struct {
	version int64
	body    []byte
}

// The view cache holds the bodies of a 10,000-integration list (about 1.2 KB each) and
// more, bounded in entries and bytes; when full it starts over.
const (
	viewCacheMax      = 1 << 16
	viewCacheMaxBytes = 64 << 20
)

func (c *viewCache) get(id, version int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || e.version != version {
		return nil, false
	}
	return e.body, true
}

// cached returns the body kept for id and the version it is of.
func (c *viewCache) cached(id int64) (int64, []byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	return e.version, e.body, ok
}

func (c *viewCache) put(id, version int64, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= viewCacheMax || c.bytes+len(body) > viewCacheMaxBytes {
		c.entries, c.bytes = map[int64]viewEntry{}, 0
	}
	if old, ok := c.entries[id]; ok {
		c.bytes -= len(old.body)
	}
	c.entries[id] = viewEntry{version: version, body: body}
	c.bytes += len(body)
}

// checkMemo remembers the statements the engine's syntax checks accepted, keyed by
// the SHA-256 of dialect and text (the text itself, which may hold a password, is not
// kept). A check is a pure function of its input, so a remembered success is the
// check's own answer; failures are never remembered. Scripts for similar configs share
// most statements, and the checks (pg_query for Redshift) are the costliest part of a
// render.
type checkMemo struct {
	mu sync.Mutex
	ok map[[32]byte]string
}

const checkMemoMax = 1 << 16

func (c *checkMemo) check(dialect, sql string) (string, error) {
	h := sha256.New()
	h.Write([]byte(dialect))
	h.Write([]byte{0})
	h.Write([]byte(sql))
	var k [32]byte
	h.Sum(k[:0])
	c.mu.Lock()
	shape, hit := c.ok[k]
	c.mu.Unlock()
	if hit {
		return shape, nil
	}
	shape, err := render.DefaultCheck(dialect, sql)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.ok == nil || len(c.ok) >= checkMemoMax {
		c.ok = map[[32]byte]string{}
	}
	c.ok[k] = shape
	c.mu.Unlock()
	return shape, nil
}

// scriptMemo keeps the responses of POST /integrations/scripts/{op}, so that the same
// request again costs no decoding, render or check. A response is decided by the
// operation, ?redact, the media type and the body's bytes alone (the engine is pure and
// fixed for the server's life), so those are the key, as an HMAC-SHA256 under a key made
// at start: the table holds no hash an attacker could test guesses against. An
// unredacted script holds passwords, so every entry is sealed with AES-256-GCM under
// another key made at start and kept only in memory: no entry is in clear. Failures are
// never kept. The table is bounded in entries and bytes; when full it starts over.
type scriptMemo struct {
	mac  []byte
	aead cipher.AEAD

	mu      sync.Mutex
	entries map[[32]byte]sealedScript
	bytes   int
}

// sealedScript is one kept response: its media type and its sealed body.
type sealedScript struct {
	mediaType  string
	nonce, box []byte
}

const (
	scriptMemoMax      = 1024
	scriptMemoMaxBytes = 32 << 20
)

// newScriptMemo makes the memo's two keys.
func newScriptMemo() (*scriptMemo, error) {
	keys := make([]byte, 64)
	if _, err := rand.Read(keys); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(keys[32:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &scriptMemo{mac: keys[:32], aead: aead}, nil
}

// key is the memo key of a script request.
func (m *scriptMemo) key(op platforms.Operation, redact bool, mediaType string, body []byte) [32]byte {
	h := hmac.New(sha256.New, m.mac)
	fmt.Fprintf(h, "%s\x00%t\x00%s\x00", op, redact, mediaType)
	h.Write(body)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// get returns the kept response of k.
func (m *scriptMemo) get(k [32]byte) (string, []byte, bool) {
	m.mu.Lock()
	e, ok := m.entries[k]
	m.mu.Unlock()
	if !ok {
		return "", nil, false
	}
	body, err := m.aead.Open(nil, e.nonce, e.box, k[:])
	if err != nil {
		return "", nil, false
	}
	return e.mediaType, body, true
}

// put keeps the response body of k, sealed.
func (m *scriptMemo) put(k [32]byte, mediaType string, body []byte) {
	nonce := make([]byte, m.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return
	}
	e := sealedScript{mediaType: mediaType, nonce: nonce, box: m.aead.Seal(nil, nonce, body, k[:])}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil || len(m.entries) >= scriptMemoMax || m.bytes+len(e.box) > scriptMemoMaxBytes {
		m.entries, m.bytes = map[[32]byte]sealedScript{}, 0
	}
	m.entries[k] = e
	m.bytes += len(e.box)
}
