// Package eventcrypt encrypts sensitive fields of events at the field level
// (the course: "if sensitive data must be included consider encrypting it at
// the field level; this approach helps preserve the ability to perform
// pattern matching") and rewrites event patterns so that they still match
// them.
//
// A sensitive value (any JSON value but null) is replaced by the string
//
//	wims:enc:<key id>:<token>:<base64url(nonce ‖ AES-256-GCM ciphertext)>
//
// The ciphertext carries the key id (also its additional data), so old keys
// still decrypt after a rotation; the newest key encrypts. The token is a
// deterministic keyed hash (HMAC-SHA256, truncated to 128 bits) of the
// value's canonical JSON under a token key derived from the same key, so a
// pattern {"customerId":["c-42"]} becomes a prefix match on
// "wims:enc:<id>:<token of "c-42">:" for every key in the ring. The price of
// matching is that equal values have equal tokens: who can read events can
// tell that two events name the same customer, not which one. Only exact
// values and exists can match a sensitive field; prefix, numeric,
// anything-but and the rest are refused, since a token reveals nothing else.
package eventcrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Prefix starts every encrypted value.
const Prefix = "wims:enc:"

// DefaultFields are always sensitive: the customer of an order, in the
// images of its change events, and a customerId at the top of any event's
// detail (where events put with PutEvents carry it). The paths apply to
// every event, whatever its source or bus, so that a pattern on one of them
// (rewritten for every event alike) always meets the encrypted form.
var DefaultFields = []string{"detail.customerId", "detail.data.NewImage.customerId", "detail.data.OldImage.customerId"}

// Key is one event key. ID names it inside ciphertexts.
type Key struct {
	ID     string
	Secret []byte // 32 bytes
}

var keyID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// ParseKey parses "id:hex" (--event-key): an id of 1-32 letters, digits,
// '-' or '_', and 64 hex digits.
func ParseKey(s string) (Key, error) {
	id, h, ok := strings.Cut(s, ":")
	if !ok || !keyID.MatchString(id) {
		return Key{}, errors.New("event key must be ID:HEX with an ID of 1-32 letters, digits, '-' or '_'")
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 32 {
		return Key{}, fmt.Errorf("event key %s: the secret must be 64 hex digits (32 bytes)", id)
	}
	return Key{ID: id, Secret: b}, nil
}

// ParseField checks a sensitive field path (--sensitive-field): dotted
// member names under "detail".
func ParseField(s string) ([]string, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || parts[0] != "detail" || slices.Contains(parts, "") {
		return nil, fmt.Errorf("sensitive field %q must be a dotted path under detail, e.g. detail.data.NewImage.email", s)
	}
	return parts, nil
}

type ringKey struct {
	id    string
	aead  cipher.AEAD
	token []byte
}

// Keyring encrypts and tokenises sensitive fields. It is safe for
// concurrent use.
type Keyring struct {
	keys         []ringKey // in the order given; the last encrypts
	fingerprints []string  // of keys, in the same order (History)
	byID         map[string]*ringKey
	fields       [][]string
	leaves       map[string]bool // last member names, to skip patterns cheaply
}

// New returns a keyring over keys (the last one encrypts) for
// DefaultFields plus fields.
func New(keys []Key, fields []string) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("eventcrypt: no key")
	}
	k := &Keyring{byID: map[string]*ringKey{}, leaves: map[string]bool{}}
	for _, key := range keys {
		if _, dup := k.byID[key.ID]; dup {
			return nil, fmt.Errorf("event key %s given twice", key.ID)
		}
		block, err := aes.NewCipher(derive(key.Secret, "wims event field encryption"))
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.keys = append(k.keys, ringKey{id: key.ID, aead: aead, token: derive(key.Secret, "wims event field token")})
		k.fingerprints = append(k.fingerprints, fingerprint(key.Secret))
	}
	for i := range k.keys {
		k.byID[k.keys[i].id] = &k.keys[i]
	}
	for _, f := range append(slices.Clone(DefaultFields), fields...) {
		p, err := ParseField(f)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(k.fields, func(q []string) bool { return slices.Equal(p, q) }) {
			k.fields = append(k.fields, p)
			k.leaves[p[len(p)-1]] = true
		}
	}
	return k, nil
}

// derive separates the encryption and token keys, so that neither reveals
// the other.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Fields lists the sensitive field paths.
func (k *Keyring) Fields() []string {
	out := make([]string, len(k.fields))
	for i, f := range k.fields {
		out[i] = strings.Join(f, ".")
	}
	return out
}

// canonical is the JSON a value is tokenised and encrypted as, so that
// "c-42" and "c-\u0034\u0032" (or 42 and 42.0) are the same value.
func canonical(raw []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func (r *ringKey) tokenOf(canon []byte) string {
	m := hmac.New(sha256.New, r.token)
	m.Write(canon)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Token is the token of a JSON value under key id, as encrypted values and
// rewritten patterns carry it.
func (k *Keyring) Token(id string, raw []byte) (string, error) {
	r := k.byID[id]
	if r == nil {
		return "", fmt.Errorf("no event key %s", id)
	}
	canon, err := canonical(raw)
	if err != nil {
		return "", err
	}
	return r.tokenOf(canon), nil
}

// Encrypt returns the encrypted form of a JSON value, with the newest key.
func (k *Keyring) Encrypt(raw []byte) (string, error) {
	canon, err := canonical(raw)
	if err != nil {
		return "", err
	}
	r := &k.keys[len(k.keys)-1]
	nonce := make([]byte, r.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := r.aead.Seal(nonce, nonce, canon, []byte(r.id))
	return Prefix + r.id + ":" + r.tokenOf(canon) + ":" + base64.RawURLEncoding.EncodeToString(ct), nil
}

// Decrypt returns the JSON value an encrypted string holds. It fails for a
// string that is not one, a key the ring does not have, or a ciphertext
// that does not authenticate (changed, or another key's).
func (k *Keyring) Decrypt(s string) ([]byte, error) {
	_, _, plain, err := k.open(s)
	return plain, err
}

// open decrypts s and returns its key and token with the plain value.
func (k *Keyring) open(s string) (*ringKey, string, []byte, error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	parts := strings.Split(rest, ":")
	if !ok || len(parts) != 3 {
		return nil, "", nil, errors.New("not an encrypted value")
	}
	r := k.byID[parts[0]]
	if r == nil {
		return nil, "", nil, fmt.Errorf("no event key %s", parts[0])
	}
	ct, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(ct) < r.aead.NonceSize() {
		return nil, "", nil, errors.New("malformed encrypted value")
	}
	n := r.aead.NonceSize()
	plain, err := r.aead.Open(nil, ct[:n], ct[n:], []byte(r.id))
	if err != nil {
		return nil, "", nil, errors.New("encrypted value does not authenticate")
	}
	return r, parts[1], plain, nil
}

// IsSealed reports whether raw, a JSON value, is already the encrypted form
// of a value under a key of the ring: a string with Prefix and a key id the
// ring has, whose ciphertext authenticates and whose token is the token of
// what it decrypts to. Events are put again (a target that puts what it
// received back, an event copied from the event log into PutEvents), and a
// second encryption would hide the value from every pattern on it. The
// checks make a forged or garbled value count as plain data (encrypted as
// any other), so a kept value always decrypts and matches what it holds.
func (k *Keyring) IsSealed(raw []byte) bool {
	t := bytes.TrimSpace(raw)
	if len(t) < len(Prefix)+2 || t[0] != '"' || !bytes.HasPrefix(t[1:], []byte(Prefix)) {
		return false
	}
	var s string
	if json.Unmarshal(t, &s) != nil {
		return false
	}
	r, token, plain, err := k.open(s)
	return err == nil && hmac.Equal([]byte(token), []byte(r.tokenOf(plain)))
}

// SealDetail encrypts the sensitive fields of an event's detail, keeping
// everything else (member order included) as it is. A field that is
// absent or null is left alone, and so is one that is already sealed
// (IsSealed): sealing is idempotent, so an event put again keeps the
// values it carries.
func (k *Keyring) SealDetail(detail []byte) ([]byte, error) {
	if !k.mentions(detail) {
		return detail, nil
	}
	out := detail
	for _, f := range k.fields {
		var err error
		if out, err = k.sealAt(out, f[1:]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mentions is a cheap filter: no sensitive member name, nothing to do.
func (k *Keyring) mentions(doc []byte) bool {
	for leaf := range k.leaves {
		if bytes.Contains(doc, []byte(`"`+leaf+`"`)) {
			return true
		}
	}
	return false
}

func (k *Keyring) sealAt(doc []byte, path []string) ([]byte, error) {
	if len(path) == 0 {
		if t := bytes.TrimSpace(doc); string(t) == "null" || k.IsSealed(t) {
			return doc, nil
		}
		enc, err := k.Encrypt(doc)
		if err != nil {
			return nil, err
		}
		return json.Marshal(enc)
	}
	spans, ok := memberSpans(doc, path[0])
	if !ok || len(spans) == 0 {
		return doc, nil // not an object, or the path is not there
	}
	// Splice each sealed value in place of the old one, keeping everything
	// else byte for byte.
	var out bytes.Buffer
	out.Grow(len(doc) + 128)
	prev := 0
	for _, sp := range spans {
		v, err := k.sealAt(doc[sp.start:sp.end], path[1:])
		if err != nil {
			return nil, err
		}
		out.Write(doc[prev:sp.start])
		out.Write(v)
		prev = sp.end
	}
	out.Write(doc[prev:])
	return out.Bytes(), nil
}

// RewritePattern makes an event pattern match encrypted fields: each exact
// value a sensitive field is matched against becomes a prefix match on its
// token under every key in the ring (so events encrypted before a rotation
// still match); null and exists stay as they are. Any other matcher on a
// sensitive field is an error that says so. A pattern that names no
// sensitive field is returned unchanged; one that is not valid JSON is
// returned unchanged for the pattern compiler to report.
func (k *Keyring) RewritePattern(p []byte) ([]byte, error) {
	if !k.mentions(p) {
		return p, nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(p, &obj) != nil {
		return p, nil
	}
	changed, err := k.rewrite(obj, nil)
	if err != nil || !changed {
		return p, err
	}
	return json.Marshal(obj)
}

func (k *Keyring) sensitive(path []string) bool {
	return slices.ContainsFunc(k.fields, func(f []string) bool { return slices.Equal(f, path) })
}

func (k *Keyring) rewrite(obj map[string]json.RawMessage, path []string) (bool, error) {
	changed := false
	for name, v := range obj {
		if name == "$or" {
			var alts []map[string]json.RawMessage
			if json.Unmarshal(v, &alts) != nil {
				continue // the compiler reports it
			}
			some := false
			for _, alt := range alts {
				c, err := k.rewrite(alt, path)
				if err != nil {
					return false, err
				}
				some = some || c
			}
			if some {
				obj[name], _ = json.Marshal(alts)
				changed = true
			}
			continue
		}
		p := append(slices.Clone(path), name)
		if k.sensitive(p) {
			nv, err := k.rewriteValues(strings.Join(p, "."), v)
			if err != nil {
				return false, err
			}
			obj[name], changed = nv, true
			continue
		}
		var sub map[string]json.RawMessage
		if json.Unmarshal(v, &sub) == nil {
			c, err := k.rewrite(sub, p)
			if err != nil {
				return false, err
			}
			if c {
				obj[name], _ = json.Marshal(sub)
				changed = true
			}
		}
	}
	return changed, nil
}

func (k *Keyring) rewriteValues(field string, v json.RawMessage) (json.RawMessage, error) {
	var vals []json.RawMessage
	if json.Unmarshal(v, &vals) != nil {
		return v, nil // not an array: the compiler reports it
	}
	var out []any
	for _, raw := range vals {
		t := bytes.TrimSpace(raw)
		switch {
		case len(t) == 0:
			return v, nil
		case string(t) == "null":
			out = append(out, nil)
		case t[0] == '{':
			var m map[string]json.RawMessage
			if json.Unmarshal(t, &m) == nil && len(m) == 1 && m["exists"] != nil {
				out = append(out, json.RawMessage(t))
				continue
			}
			return nil, fmt.Errorf("%s is sensitive (encrypted in events): only exact values and exists can match it", field)
		case t[0] == '[':
			return v, nil // the compiler reports it
		default:
			canon, err := canonical(t)
			if err != nil {
				return v, nil
			}
			for i := range k.keys {
				r := &k.keys[i]
				out = append(out, map[string]string{"prefix": Prefix + r.id + ":" + r.tokenOf(canon) + ":"})
			}
		}
	}
	return json.Marshal(out)
}
