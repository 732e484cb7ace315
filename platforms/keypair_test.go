package platforms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fixtures under testdata/snowflake were made with OpenSSL 3 (test-only keys):
//
//	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.p8
//	openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:'s3cret pass' -in key.p8 -out key-aes256-sha256.p8
//	openssl pkcs8 -topk8 -v2 aes-128-cbc -v2prf hmacWithSHA1 ... -out key-aes128-sha1.p8
//	openssl pkcs8 -topk8 -v2 aes-192-cbc -v2prf hmacWithSHA512 ... -out key-aes192-sha512.p8
//	openssl pkcs8 -topk8 -v2 des3 ... -out key-des3.p8
//	openssl pkey -in key.p8 -pubout -outform DER | base64 -w0 > key.pub.b64
//	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.p8
//	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.p8
//	openssl rsa -in key.p8 -traditional -out key-pkcs1.pem
const fixturePass = "s3cret pass"

func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "snowflake", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pemBodyLines returns the base64 lines of a PEM text: no message may contain them.
func pemBodyLines(p string) []string {
	var out []string
	for _, l := range strings.Split(p, "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

func TestRSAPublicKeyBodyFixtures(t *testing.T) {
	want := strings.TrimSpace(fixture(t, "key.pub.b64"))
	for _, tc := range []struct {
		file, pass string
		path, msg  string // expected error (empty: success)
	}{
		{file: "key.p8"},
		{file: "key.p8", pass: "ignored for a plain key"},
		{file: "key-aes256-sha256.p8", pass: fixturePass},
		{file: "key-aes128-sha1.p8", pass: fixturePass},
		{file: "key-aes192-sha512.p8", pass: fixturePass},
		{file: "key-aes256-sha256.p8", pass: "badpass1", path: pathPrivateKeyPassword, msg: "wrong passphrase"},
		{file: "key-aes128-sha1.p8", pass: "S3cret pass", path: pathPrivateKeyPassword, msg: "wrong passphrase"},
		{file: "key-aes256-sha256.p8", path: pathPrivateKeyPassword, msg: "is required"},
		{file: "key-des3.p8", pass: fixturePass, path: pathPrivateKey, msg: "aes-256-cbc"},
		{file: "key-pkcs1.pem", path: pathPrivateKey, msg: "not PKCS#1"},
		{file: "ec.p8", path: pathPrivateKey, msg: "must be an RSA private key (got an ECDSA key)"},
		{file: "rsa1024.p8", path: pathPrivateKey, msg: "at least 2048 bits (got 1024)"},
	} {
		t.Run(tc.file+"/"+tc.pass, func(t *testing.T) {
			content := fixture(t, tc.file)
			got, kerr := RSAPublicKeyBody(content, tc.pass)
			if tc.path == "" {
				if kerr != nil {
					t.Fatalf("unexpected error %v", kerr)
				}
				if got != want {
					t.Fatalf("public key differs from openssl's:\n got %s\nwant %s", got, want)
				}
				return
			}
			if kerr == nil {
				t.Fatalf("no error, want %s: %s", tc.path, tc.msg)
			}
			if kerr.Path != tc.path || !strings.Contains(kerr.Message, tc.msg) {
				t.Fatalf("error %q, want %s: ...%s...", kerr.Error(), tc.path, tc.msg)
			}
			assertNoLeak(t, kerr.Error(), content, tc.pass)
		})
	}
}

func assertNoLeak(t *testing.T, msg, content, pass string) {
	t.Helper()
	for _, l := range pemBodyLines(content) {
		if len(l) >= 16 && strings.Contains(msg, l[:16]) {
			t.Fatalf("message echoes the key: %q", msg)
		}
	}
	if pass != "" && strings.Contains(msg, pass) {
		t.Fatalf("message echoes the passphrase: %q", msg)
	}
}

func TestRSAPublicKeyBodyBadInput(t *testing.T) {
	key := fixture(t, "key.p8")
	block, _ := pem.Decode([]byte(key))
	for _, tc := range []struct{ name, content, msg string }{
		{"empty", "", "must be a PEM private key"},
		{"not pem", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "must be a PEM private key"},
		{"certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a CERTIFICATE block"},
		{"public key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PUBLIC KEY block"},
		{"odd type", "-----BEGIN <x>-----\nAAAA\n-----END <x>-----\n", "not a non-key block"},
		{"openssh", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", "RSA private key in PKCS#8"},
		{"two blocks", key + key, "exactly one PEM block"},
		{"bad body", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: block.Bytes[:100]})), "does not parse"},
		{"legacy encryption", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: block.Bytes})), "legacy PEM encryption"},
		{"bad encrypted body", string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x01}})), "does not parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pass := ""
			if strings.Contains(tc.content, "ENCRYPTED") {
				pass = "x"
			}
			_, kerr := RSAPublicKeyBody(tc.content, pass)
			if kerr == nil || kerr.Path != pathPrivateKey || !strings.Contains(kerr.Message, tc.msg) {
				t.Fatalf("got %v, want %s: ...%s...", kerr, pathPrivateKey, tc.msg)
			}
			assertNoLeak(t, kerr.Error(), tc.content, "")
		})
	}
	// CRLF line ends and surrounding blanks (pasted keys) are fine.
	crlf := "\n  " + strings.ReplaceAll(key, "\n", "\r\n") + "\n"
	if _, kerr := RSAPublicKeyBody(crlf, ""); kerr != nil {
		t.Fatalf("CRLF key: %v", kerr)
	}
}

// encryptPKCS8 builds an ENCRYPTED PRIVATE KEY PEM the way OpenSSL does (PBES2, PBKDF2,
// AES-CBC) with the same primitives, independently of the code under test.
func encryptPKCS8(t testing.TB, der []byte, pass string, prfOID asn1.ObjectIdentifier, prf func() hash.Hash, encOID asn1.ObjectIdentifier, keyLen, iter int, explicitKeyLen bool, declIter ...int) string {
	t.Helper()
	salt := []byte("saltsalt12345678")
	iv := []byte("0123456789abcdef")
	key, err := pbkdf2.Key(prf, pass, salt, iter, keyLen)
	if err != nil {
		t.Fatal(err)
	}
	n := aes.BlockSize - len(der)%aes.BlockSize
	plain := append(append([]byte(nil), der...), []byte(strings.Repeat(string(rune(n)), n))...)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	enc := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, plain)
	mustRaw := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{FullBytes: b}
	}
	type alg struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	type kdfParams struct {
		Salt      []byte
		Iter      int
		KeyLength int `asn1:"optional"`
		PRF       alg `asn1:"optional"`
	}
	kp := kdfParams{Salt: salt, Iter: iter}
	if len(declIter) > 0 {
		kp.Iter = declIter[0]
	}
	if explicitKeyLen {
		kp.KeyLength = keyLen
	}
	if prfOID != nil {
		kp.PRF = alg{Algorithm: prfOID, Parameters: asn1.NullRawValue}
	}
	params := struct{ KDF, Enc alg }{
		KDF: alg{Algorithm: oidPBKDF2, Parameters: mustRaw(kp)},
		Enc: alg{Algorithm: encOID, Parameters: mustRaw(iv)},
	}
	info := struct {
		Alg  alg
		Data []byte
	}{Alg: alg{Algorithm: oidPBES2, Parameters: mustRaw(params)}, Data: enc}
	b, err := asn1.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: b}))
}

func TestRSAPublicKeyBodyEncryptedBuiltInTest(t *testing.T) {
	plain := fixture(t, "key.p8")
	block, _ := pem.Decode([]byte(plain))
	want := strings.TrimSpace(fixture(t, "key.pub.b64"))
	const pass = "pa'ss\\word ü"
	for _, tc := range []struct {
		name     string
		prfOID   asn1.ObjectIdentifier
		prf      func() hash.Hash
		enc      asn1.ObjectIdentifier
		keyLen   int
		explicit bool
	}{
		{"sha1-default-aes128", nil, sha1.New, oidAES128CBC, 16, false},
		{"sha1-aes256", oidHMACWithSHA1, sha1.New, oidAES256CBC, 32, true},
		{"sha224-aes192", oidHMACWithSHA224, sha256.New224, oidAES192CBC, 24, false},
		{"sha256-aes256", oidHMACWithSHA256, sha256.New, oidAES256CBC, 32, true},
		{"sha384-aes128", oidHMACWithSHA384, sha512.New384, oidAES128CBC, 16, false},
		{"sha512-aes256", oidHMACWithSHA512, sha512.New, oidAES256CBC, 32, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := encryptPKCS8(t, block.Bytes, pass, tc.prfOID, tc.prf, tc.enc, tc.keyLen, 1000, tc.explicit)
			got, kerr := RSAPublicKeyBody(enc, pass)
			if kerr != nil || got != want {
				t.Fatalf("got %q, %v", got, kerr)
			}
			_, kerr = RSAPublicKeyBody(enc, pass+"x")
			if kerr == nil || kerr.Path != pathPrivateKeyPassword {
				t.Fatalf("wrong passphrase: got %v", kerr)
			}
			assertNoLeak(t, kerr.Error(), enc, pass)
		})
	}
	t.Run("too many iterations", func(t *testing.T) {
		// Declares more iterations than allowed: refused before any key derivation.
		enc := encryptPKCS8(t, block.Bytes, pass, oidHMACWithSHA256, sha256.New, oidAES256CBC, 32, 1, false, maxPBKDF2Iterations+1)
		_, kerr := RSAPublicKeyBody(enc, pass)
		if kerr == nil || kerr.Path != pathPrivateKey || !strings.Contains(kerr.Message, "iterations") {
			t.Fatalf("got %v", kerr)
		}
		enc = encryptPKCS8(t, block.Bytes, pass, oidHMACWithSHA256, sha256.New, oidAES256CBC, 32, 1, false, 0)
		if _, kerr = RSAPublicKeyBody(enc, pass); kerr == nil || !strings.Contains(kerr.Message, "iterations") {
			t.Fatalf("zero iterations: got %v", kerr)
		}
	})
	t.Run("key length mismatch", func(t *testing.T) {
		enc := encryptPKCS8(t, block.Bytes, pass, oidHMACWithSHA256, sha256.New, oidAES256CBC, 32, 10, true)
		b, _ := pem.Decode([]byte(enc))
		der := b.Bytes
		i := strings.Index(string(der), "\x02\x01\x20") // INTEGER 32 (key length)
		if i < 0 {
			t.Fatal("key length not found")
		}
		der[i+2] = 16
		_, kerr := RSAPublicKeyBody(string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})), pass)
		if kerr == nil || kerr.Path != pathPrivateKey || !strings.Contains(kerr.Message, "key length") {
			t.Fatalf("got %v", kerr)
		}
	})
	t.Run("not rsa inside", func(t *testing.T) {
		ec, _ := pem.Decode([]byte(fixture(t, "ec.p8")))
		enc := encryptPKCS8(t, ec.Bytes, pass, oidHMACWithSHA256, sha256.New, oidAES256CBC, 32, 10, false)
		_, kerr := RSAPublicKeyBody(enc, pass)
		if kerr == nil || kerr.Path != pathPrivateKey || !strings.Contains(kerr.Message, "RSA") {
			t.Fatalf("got %v", kerr)
		}
	})
}

func TestRSAPublicKeyBodyIsPKIX(t *testing.T) {
	got, kerr := RSAPublicKeyBody(fixture(t, "key.p8"), "")
	if kerr != nil {
		t.Fatal(kerr)
	}
	der, err := base64.StdEncoding.DecodeString(got)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParsePKIXPublicKey(der); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(got, "\n\r -") {
		t.Fatalf("body must be one line of base64: %q", got)
	}
}

func TestUnpadPKCS7(t *testing.T) {
	for _, tc := range []struct {
		in []byte
		ok bool
	}{
		{append(make([]byte, 15), 1), true},
		{append(make([]byte, 12), 4, 4, 4, 4), true},
		{append(make([]byte, 12), 3, 4, 4, 4), false},
		{append(make([]byte, 15), 0), false},
		{append(make([]byte, 15), 17), false},
		{nil, false},
		{make([]byte, 7), false},
	} {
		if _, ok := unpadPKCS7(tc.in, 16); ok != tc.ok {
			t.Errorf("unpad(%v) = %v, want %v", tc.in, ok, tc.ok)
		}
	}
}
