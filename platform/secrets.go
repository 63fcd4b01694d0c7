package platform

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sealer encrypts connection secrets with AES-256-GCM. The additional data
// binds a ciphertext to its resource, so a sealed secret copied onto
// another connection does not open.
type Sealer struct{ aead cipher.AEAD }

// sealVersion prefixes every ciphertext, so the format can change later
// (e.g. key ids for rotation) without guessing.
const sealVersion = 1

// NewSealer derives the key from secret (--secrets-key): 64 hex digits are
// used as the key itself, anything else of at least 16 characters is hashed
// with SHA-256.
func NewSealer(secret string) (*Sealer, error) {
	var key []byte
	if b, err := hex.DecodeString(secret); err == nil && len(b) == 32 {
		key = b
	} else if len(secret) >= 16 {
		sum := sha256.Sum256([]byte(secret))
		key = sum[:]
	} else {
		return nil, errors.New("secrets key must be 64 hex digits or a passphrase of at least 16 characters")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// LoadOrCreateKeyFile returns the key stored in path, creating it (32 random
// bytes, hex, mode 0600) if it does not exist. It is the default when no
// --secrets-key is given: fine for one instance, but instances sharing a
// PostgreSQL store must all be given the same --secrets-key.
func LoadOrCreateKeyFile(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read secrets key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process won the race
			return LoadOrCreateKeyFile(path)
		}
		return "", fmt.Errorf("create secrets key: %w", err)
	}
	defer f.Close()
	s := hex.EncodeToString(key)
	if _, err := f.WriteString(s + "\n"); err != nil {
		return "", err
	}
	return s, f.Sync()
}

// Seal encrypts plain for the resource named by aad.
func (s *Sealer) Seal(plain, aad string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append([]byte{sealVersion}, nonce...)
	return s.aead.Seal(out, nonce, []byte(plain), []byte(aad)), nil
}

// Open decrypts what Seal returned for the same aad.
func (s *Sealer) Open(sealed []byte, aad string) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return "", errors.New("sealed secret: unknown format")
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(aad))
	if err != nil {
		return "", errors.New("sealed secret: cannot open (wrong --secrets-key?)")
	}
	return string(plain), nil
}
