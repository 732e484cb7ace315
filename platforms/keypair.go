package platforms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/pbkdf2"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"hash"
	"strings"
)

// Paths of the Snowflake key-pair fields, named by key errors.
const (
	pathPrivateKey         = "config.privateKey.content"
	pathPrivateKeyPassword = "config.privateKeyPassword"
)

// minRSABits is the smallest RSA key Snowflake accepts for key-pair authentication.
const minRSABits = 2048

// maxPBKDF2Iterations bounds the work an encrypted key may ask of the server (OpenSSL
// uses 2048 by default; 1,000,000 iterations of HMAC-SHA512 take well under a second).
const maxPBKDF2Iterations = 1_000_000

// KeyError is a problem with a private key: the field it concerns and a lower-case
// message that never contains the key or the passphrase.
type KeyError struct {
	Path    string
	Message string
}

// Error implements error.
func (e *KeyError) Error() string { return e.Path + ": " + e.Message }

func keyErr(path, format string, args ...any) *KeyError {
	return &KeyError{Path: path, Message: fmt.Sprintf(format, args...)}
}

// RSAPublicKeyBody parses a PEM PKCS#8 RSA private key, "PRIVATE KEY" or "ENCRYPTED
// PRIVATE KEY" (PBES2 with PBKDF2 and AES-CBC, decrypted with passphrase), and returns
// its public key as the base64 DER (PKIX SubjectPublicKeyInfo) body, without PEM armour
// or line breaks: the value Snowflake's RSA_PUBLIC_KEY expects.
func RSAPublicKeyBody(pemText, passphrase string) (string, *KeyError) {
	key, kerr := ParseRSAPrivateKey(pemText, passphrase)
	if kerr != nil {
		return "", kerr
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", keyErr(pathPrivateKey, "cannot encode the public key of this RSA key")
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// ParseRSAPrivateKey parses a PEM PKCS#8 RSA private key (plain or encrypted, see
// RSAPublicKeyBody) of at least 2048 bits.
func ParseRSAPrivateKey(pemText, passphrase string) (*rsa.PrivateKey, *KeyError) {
	block, rest := pem.Decode([]byte(strings.TrimSpace(pemText)))
	if block == nil {
		return nil, keyErr(pathPrivateKey, "must be a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN ENCRYPTED PRIVATE KEY-----)")
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, keyErr(pathPrivateKey, "must hold exactly one PEM block (the private key)")
	}
	var der []byte
	switch block.Type {
	case "PRIVATE KEY":
		if len(block.Headers) != 0 {
			return nil, keyErr(pathPrivateKey, "must be an unencrypted PKCS#8 key or a PKCS#8 ENCRYPTED PRIVATE KEY (legacy PEM encryption headers are not supported)")
		}
		der = block.Bytes
	case "ENCRYPTED PRIVATE KEY":
		if passphrase == "" {
			return nil, keyErr(pathPrivateKeyPassword, "is required: the private key is encrypted")
		}
		var kerr *KeyError
		der, kerr = decryptPKCS8(block.Bytes, passphrase)
		if kerr != nil {
			return nil, kerr
		}
	case "RSA PRIVATE KEY":
		return nil, keyErr(pathPrivateKey, "must be PKCS#8 (-----BEGIN PRIVATE KEY-----), not PKCS#1 (-----BEGIN RSA PRIVATE KEY-----); convert it with openssl pkcs8 -topk8")
	case "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "DSA PRIVATE KEY":
		return nil, keyErr(pathPrivateKey, "must be an RSA private key in PKCS#8 PEM form (got a %s block)", block.Type)
	default:
		return nil, keyErr(pathPrivateKey, "must be a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN ENCRYPTED PRIVATE KEY-----), not a %s block", pemTypeName(block.Type))
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		if block.Type == "ENCRYPTED PRIVATE KEY" {
			// Padding checks pass by chance for about one wrong passphrase in 256.
			return nil, keyErr(pathPrivateKeyPassword, "does not decrypt the private key (wrong passphrase?)")
		}
		return nil, keyErr(pathPrivateKey, "must be a PKCS#8 private key (the PEM body does not parse)")
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, keyErr(pathPrivateKey, "must be an RSA private key (got %s)", keyTypeName(parsed))
	}
	if bits := key.N.BitLen(); bits < minRSABits {
		return nil, keyErr(pathPrivateKey, "must be an RSA key of at least %d bits (got %d)", minRSABits, bits)
	}
	return key, nil
}

// pemTypeName keeps a block type printable and short in messages (it is not secret, but
// it comes from the input).
func pemTypeName(t string) string {
	for _, r := range t {
		if (r < 'A' || r > 'Z') && r != ' ' && (r < '0' || r > '9') {
			return "non-key"
		}
	}
	if len(t) > 40 {
		return "non-key"
	}
	return t
}

func keyTypeName(k any) string {
	switch k.(type) {
	case *ecdsa.PrivateKey:
		return "an ECDSA key"
	case ed25519.PrivateKey:
		return "an Ed25519 key"
	case *ecdh.PrivateKey:
		return "an X25519 key"
	}
	return "another key type"
}

// ASN.1 of PKCS#8 encryption (RFC 5208, RFC 8018).
type encryptedPrivateKeyInfo struct {
	Algorithm     pkixAlgorithm
	EncryptedData []byte
}

type pkixAlgorithm struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type pbes2Params struct {
	KeyDerivationFunc pkixAlgorithm
	EncryptionScheme  pkixAlgorithm
}

type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int           `asn1:"optional"`
	PRF            pkixAlgorithm `asn1:"optional"`
}

var (
	oidPBES2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

const unsupportedEncryption = "must be encrypted with PKCS#8 PBES2 (PBKDF2 with HMAC-SHA1 or HMAC-SHA2, AES-128/192/256-CBC), e.g. openssl pkcs8 -topk8 -v2 aes-256-cbc"

// decryptPKCS8 decrypts the DER of an ENCRYPTED PRIVATE KEY block and returns the DER
// of the PrivateKeyInfo inside.
func decryptPKCS8(der []byte, passphrase string) ([]byte, *KeyError) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, keyErr(pathPrivateKey, "must be a PKCS#8 encrypted private key (the PEM body does not parse)")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, keyErr(pathPrivateKey, unsupportedEncryption)
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return nil, keyErr(pathPrivateKey, "must be a PKCS#8 encrypted private key (bad PBES2 parameters)")
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, keyErr(pathPrivateKey, unsupportedEncryption)
	}
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil || len(rest) != 0 {
		return nil, keyErr(pathPrivateKey, "must be a PKCS#8 encrypted private key (bad PBKDF2 parameters)")
	}
	var prf func() hash.Hash
	switch p := kdf.PRF.Algorithm; {
	case len(p) == 0, p.Equal(oidHMACWithSHA1):
		prf = sha1.New
	case p.Equal(oidHMACWithSHA224):
		prf = sha256.New224
	case p.Equal(oidHMACWithSHA256):
		prf = sha256.New
	case p.Equal(oidHMACWithSHA384):
		prf = sha512.New384
	case p.Equal(oidHMACWithSHA512):
		prf = sha512.New
	default:
		return nil, keyErr(pathPrivateKey, unsupportedEncryption)
	}
	if kdf.IterationCount < 1 || kdf.IterationCount > maxPBKDF2Iterations {
		return nil, keyErr(pathPrivateKey, "must use between 1 and %d PBKDF2 iterations", maxPBKDF2Iterations)
	}
	if len(kdf.Salt) == 0 {
		return nil, keyErr(pathPrivateKey, "must be a PKCS#8 encrypted private key (empty PBKDF2 salt)")
	}
	var keyLen int
	switch e := params.EncryptionScheme.Algorithm; {
	case e.Equal(oidAES128CBC):
		keyLen = 16
	case e.Equal(oidAES192CBC):
		keyLen = 24
	case e.Equal(oidAES256CBC):
		keyLen = 32
	default:
		return nil, keyErr(pathPrivateKey, unsupportedEncryption)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, keyErr(pathPrivateKey, "must be a PKCS#8 encrypted private key (PBKDF2 key length does not match the cipher)")
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 || len(iv) != aes.BlockSize {
		return nil, keyErr(pathPrivateKey, "must be a PKCS#8 encrypted private key (bad AES-CBC IV)")
	}
	data := info.EncryptedData
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, keyErr(pathPrivateKey, "must be a PKCS#8 encrypted private key (encrypted data is not a whole number of AES blocks)")
	}
	key, err := pbkdf2.Key(prf, passphrase, kdf.Salt, kdf.IterationCount, keyLen)
	if err != nil {
		return nil, keyErr(pathPrivateKeyPassword, "cannot be used to derive a key")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, keyErr(pathPrivateKey, unsupportedEncryption)
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	out, ok := unpadPKCS7(plain, aes.BlockSize)
	if !ok {
		return nil, keyErr(pathPrivateKeyPassword, "does not decrypt the private key (wrong passphrase?)")
	}
	return out, nil
}

// unpadPKCS7 removes PKCS#7 padding, checking every padding byte.
func unpadPKCS7(b []byte, size int) ([]byte, bool) {
	if len(b) == 0 || len(b)%size != 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n == 0 || n > size || n > len(b) {
		return nil, false
	}
	pad := make([]byte, n)
	for i := range pad {
		pad[i] = byte(n)
	}
	if subtle.ConstantTimeCompare(b[len(b)-n:], pad) != 1 {
		return nil, false
	}
	return b[:len(b)-n], true
}
