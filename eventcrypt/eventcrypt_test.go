package eventcrypt_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wims/wims/eventcrypt"
	"github.com/wims/wims/pattern"
)

func key(t testing.TB, s string) eventcrypt.Key {
	t.Helper()
	k, err := eventcrypt.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	k1 = "k1:" + "0101010101010101010101010101010101010101010101010101010101010101"
	k2 = "k2:" + "0202020202020202020202020202020202020202020202020202020202020202"
)

func ring(t testing.TB, fields []string, keys ...string) *eventcrypt.Keyring {
	t.Helper()
	var ks []eventcrypt.Key
	for _, s := range keys {
		ks = append(ks, key(t, s))
	}
	r, err := eventcrypt.New(ks, fields)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// change is an order insert's detail as the relay builds it.
const change = `{"meta":{"id":"e1"},"data":{"table":"orders","eventType":"INSERT","NewImage":{"orderId":"o-1","customerId":"c-42","quantity":3},"OldImage":null}}`

// TestSealAndRotate: the customer is encrypted (nothing else changes, not
// even member order), decrypts; after a rotation the new key encrypts and
// the old ciphertext still decrypts; a ring without the old key cannot.
func TestSealAndRotate(t *testing.T) {
	r1 := ring(t, nil, k1)
	sealed, err := r1.SealDetail([]byte(change))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("c-42")) || !bytes.Contains(sealed, []byte(`"customerId":"wims:enc:k1:`)) ||
		!bytes.HasPrefix(sealed, []byte(`{"meta":{"id":"e1"},"data":{"table":"orders","eventType":"INSERT","NewImage":{"orderId":"o-1","customerId":"`)) ||
		!bytes.HasSuffix(sealed, []byte(`","quantity":3},"OldImage":null}}`)) {
		t.Fatalf("sealed = %s", sealed)
	}
	var d struct {
		Data struct{ NewImage struct{ CustomerID string } }
	}
	if err := json.Unmarshal(sealed, &d); err != nil {
		t.Fatal(err)
	}
	enc := d.Data.NewImage.CustomerID
	if plain, err := r1.Decrypt(enc); err != nil || string(plain) != `"c-42"` {
		t.Fatalf("Decrypt = %s, %v", plain, err)
	}
	again, _ := r1.SealDetail([]byte(change))
	if bytes.Equal(again, sealed) {
		t.Fatal("two encryptions are equal: the nonce is not random")
	}

	rotated := ring(t, nil, k1, k2)
	if plain, err := rotated.Decrypt(enc); err != nil || string(plain) != `"c-42"` {
		t.Fatalf("old ciphertext after rotation: %s, %v", plain, err)
	}
	newer, _ := rotated.Encrypt([]byte(`"c-42"`))
	if !strings.HasPrefix(newer, "wims:enc:k2:") {
		t.Fatalf("the newest key does not encrypt: %s", newer)
	}
	if _, err := ring(t, nil, k2).Decrypt(enc); err == nil {
		t.Fatal("a ring without k1 decrypted k1's ciphertext")
	}
	tampered := enc[:len(enc)-2] + "AA"
	if _, err := r1.Decrypt(tampered); err == nil {
		t.Fatal("a changed ciphertext decrypted")
	}
}

// TestTokens: deterministic per key and value, canonical ("c-\u0034\u0032"
// is "c-42"), different per key and per value.
func TestTokens(t *testing.T) {
	r := ring(t, nil, k1, k2)
	a, _ := r.Token("k1", []byte(`"c-42"`))
	b, _ := r.Token("k1", []byte(`"c-\u0034\u0032"`))
	c, _ := r.Token("k2", []byte(`"c-42"`))
	d, _ := r.Token("k1", []byte(`"c-43"`))
	if a != b || a == c || a == d || len(a) != 22 {
		t.Fatalf("tokens %q %q %q %q", a, b, c, d)
	}
	enc, _ := ring(t, nil, k1).Encrypt([]byte(`"c-42"`))
	if !strings.HasPrefix(enc, "wims:enc:k1:"+a+":") {
		t.Fatalf("ciphertext %s does not carry token %s", enc, a)
	}
}

// TestPatternMatchesThroughToken: a rule on the plain customer id matches
// the encrypted event, under the old and the new key; another customer
// does not; exists still works; a prefix on a sensitive field is refused;
// a configured field is sensitive too.
func TestPatternMatchesThroughToken(t *testing.T) {
	old := ring(t, []string{"detail.data.NewImage.email"}, k1)
	now := ring(t, []string{"detail.data.NewImage.email"}, k1, k2)
	event := func(r *eventcrypt.Keyring) []byte {
		d, err := r.SealDetail([]byte(`{"data":{"table":"orders","NewImage":{"customerId":"c-42","email":"a@b.c"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		return []byte(`{"version":"0","id":"1","source":"wims.cdc","detail-type":"x","account":"0","time":"2025-01-01T00:00:00Z","region":"local","resources":[],"detail":` + string(d) + `}`)
	}
	match := func(p string, ev []byte) bool {
		t.Helper()
		rw, err := now.RewritePattern([]byte(p))
		if err != nil {
			t.Fatalf("RewritePattern(%s): %v", p, err)
		}
		c, err := pattern.Compile(rw)
		if err != nil {
			t.Fatalf("compile %s: %v", rw, err)
		}
		ok, err := c.Match(ev)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, ev := range [][]byte{event(old), event(now)} {
		if bytes.Contains(ev, []byte("c-42")) || bytes.Contains(ev, []byte("a@b.c")) {
			t.Fatalf("plaintext in %s", ev)
		}
		for p, want := range map[string]bool{
			`{"detail":{"data":{"NewImage":{"customerId":["c-42"]}}}}`:                             true,
			`{"detail":{"data":{"NewImage":{"customerId":["c-1","c-42"]}}}}`:                       true,
			`{"detail":{"data":{"NewImage":{"customerId":["c-43"]}}}}`:                             false,
			`{"detail":{"data":{"NewImage":{"customerId":[{"exists":true}]}}}}`:                    true,
			`{"detail":{"data":{"NewImage":{"email":["a@b.c"]}}}}`:                                 true,
			`{"$or":[{"detail":{"data":{"NewImage":{"customerId":["c-42"]}}}},{"source":["no"]}]}`: true,
			`{"detail":{"data":{"table":["orders"]}}}`:                                             true,
		} {
			if got := match(p, ev); got != want {
				t.Errorf("%s on %s = %v, want %v", p, ev, got, want)
			}
		}
	}
	if _, err := now.RewritePattern([]byte(`{"detail":{"data":{"NewImage":{"customerId":[{"prefix":"c-"}]}}}}`)); err == nil ||
		!strings.Contains(err.Error(), "detail.data.NewImage.customerId is sensitive") {
		t.Fatalf("prefix on a sensitive field: %v", err)
	}
	same := []byte(`{"source":["a"]}`)
	if got, _ := now.RewritePattern(same); !bytes.Equal(got, same) {
		t.Fatalf("an unrelated pattern was rewritten: %s", got)
	}
}

func TestParseKeyAndField(t *testing.T) {
	for _, bad := range []string{"", "k1", "k1:00", ":" + strings.Repeat("0", 64), "a b:" + strings.Repeat("0", 64), "k1:" + strings.Repeat("g", 64)} {
		if _, err := eventcrypt.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "detail", "source.x", "detail..x"} {
		if _, err := eventcrypt.ParseField(bad); err == nil {
			t.Errorf("ParseField(%q) accepted", bad)
		}
	}
	if _, err := eventcrypt.New(nil, nil); err == nil {
		t.Error("a ring without keys")
	}
}

// FuzzSealDetail: sealing any document either fails or yields one without
// a sensitive plaintext that decrypts back; it never panics.
func FuzzSealDetail(f *testing.F) {
	f.Add([]byte(`{"data":{"NewImage":{"customerId":"c-42"},"OldImage":{"customerId":7}}}`))
	f.Add([]byte(`{"data":{"NewImage":{"customerId":null}}}`))
	f.Add([]byte(`{"data":[1,2]}`))
	f.Add([]byte(`not json "customerId"`))
	f.Add([]byte(`{"customerId":"c-42","data":{"OldImage":{"customerId":{"a":1}}}}`))
	f.Add([]byte(`{"customerId":"wims:enc:k1:AAAA:BBBB"}`))
	r := ring(f, nil, k1)
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, err := r.SealDetail(doc)
		if err != nil || !json.Valid(doc) {
			return
		}
		// Idempotent: what is sealed stays as it is when sealed again (an
		// event put once more).
		if again, err := r.SealDetail(out); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("sealing %s again gave %s, %v", out, again, err)
		}
		// Maps, not a struct: member names are case-sensitive here, as in
		// patterns, and encoding/json folds case for struct fields.
		var d map[string]json.RawMessage
		var data map[string]json.RawMessage
		var img map[string]json.RawMessage
		if json.Unmarshal(out, &d) != nil || json.Unmarshal(d["data"], &data) != nil || json.Unmarshal(data["NewImage"], &img) != nil {
			return
		}
		v, ok := img["customerId"]
		if !ok || string(v) == "null" {
			return
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			t.Fatalf("customerId left as %s in %s", v, out)
		}
		if _, err := r.Decrypt(s); err != nil {
			t.Fatalf("customerId %s does not decrypt: %v", s, err)
		}
	})
}

// FuzzRewritePattern: any input is rewritten or refused without a panic,
// and a rewrite of a valid pattern compiles.
func FuzzRewritePattern(f *testing.F) {
	f.Add([]byte(`{"detail":{"data":{"NewImage":{"customerId":["c-42",1,null,{"exists":false}]}}}}`))
	f.Add([]byte(`{"$or":[{"detail":{"data":{"OldImage":{"customerId":["x"]}}}},{"a":["b"]}]}`))
	f.Add([]byte(`{"detail":{"data":{"NewImage":{"customerId":"c"}}}}`))
	r := ring(f, nil, k1, k2)
	f.Fuzz(func(t *testing.T, p []byte) {
		out, err := r.RewritePattern(p)
		if err != nil {
			return
		}
		if _, cerr := pattern.Compile(p); cerr == nil {
			if _, err := pattern.Compile(out); err != nil {
				t.Fatalf("%s compiles, its rewrite %s does not: %v", p, out, err)
			}
		}
	})
}

// FuzzDecrypt: never panics on any string.
func FuzzDecrypt(f *testing.F) {
	r := ring(f, nil, k1)
	enc, _ := r.Encrypt([]byte(`"c-42"`))
	f.Add(enc)
	f.Add("wims:enc:k1:x:")
	f.Add("wims:enc:nope:a:b")
	f.Fuzz(func(t *testing.T, s string) { _, _ = r.Decrypt(s) })
}

// TestSealIsIdempotent: a user event's top-level customerId is sealed; a
// value already sealed under a key of the ring is kept byte for byte (also
// after a rotation), while a forged one (another value's token) and one
// under a key the ring lacks are plain data, encrypted like any other.
func TestSealIsIdempotent(t *testing.T) {
	r1 := ring(t, nil, k1)
	sealed, err := r1.SealDetail([]byte(`{"customerId":"c-42","total":250}`))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("c-42")) || !bytes.HasPrefix(sealed, []byte(`{"customerId":"wims:enc:k1:`)) {
		t.Fatalf("sealed = %s", sealed)
	}
	for name, r := range map[string]*eventcrypt.Keyring{"same ring": r1, "rotated": ring(t, nil, k1, k2)} {
		again, err := r.SealDetail(sealed)
		if err != nil || !bytes.Equal(again, sealed) {
			t.Errorf("%s: sealed again = %s, %v; want it unchanged", name, again, err)
		}
	}
	var d struct{ CustomerID string }
	if err := json.Unmarshal(sealed, &d); err != nil {
		t.Fatal(err)
	}
	tok7, err := r1.Token("k1", []byte(`"c-7"`))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(d.CustomerID, ":")
	forged := strings.Join([]string{parts[0], parts[1], parts[2], tok7, parts[4]}, ":")
	for name, v := range map[string]string{"forged token": forged, "garbled": d.CustomerID + "x"} {
		raw, _ := json.Marshal(v)
		if r1.IsSealed(raw) {
			t.Errorf("%s: IsSealed = true", name)
		}
	}
	if !r1.IsSealed([]byte(` "` + d.CustomerID + `" `)) {
		t.Error("IsSealed(the sealed value) = false")
	}
	other, err := ring(t, nil, k2).SealDetail(sealed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(other, []byte(`{"customerId":"wims:enc:k2:`)) {
		t.Fatalf("a ring without k1 kept the k1 value: %s", other)
	}
}

// TestAdmit: a rotation [k1] → [k1 k2] → [k2] is admitted step by step and
// remembered; skipping the middle step, rolling back past the encrypting
// key, or a known id with another secret is refused with an error that
// names the key and never a secret.
func TestAdmit(t *testing.T) {
	h, err := ring(t, nil, k1).Admit(eventcrypt.History{})
	if err != nil || h.Encrypting != "k1" || len(h.Keys) != 1 {
		t.Fatalf("first start: %+v, %v", h, err)
	}
	same, err := ring(t, nil, k1).Admit(h)
	if err != nil || !same.Equal(h) {
		t.Fatalf("restart with the same ring: %+v, %v; want %+v unchanged", same, err, h)
	}
	if _, err := ring(t, nil, k2).Admit(h); err == nil || !strings.Contains(err.Error(), "event key k1") {
		t.Fatalf("[k2] after [k1]: %v, want a refusal naming k1", err)
	}
	rotated, err := ring(t, nil, k1, k2).Admit(h)
	if err != nil || rotated.Encrypting != "k2" || len(rotated.Keys) != 2 || rotated.Equal(h) {
		t.Fatalf("[k1 k2] after [k1]: %+v, %v", rotated, err)
	}
	if _, err := ring(t, nil, k1).Admit(rotated); err == nil || !strings.Contains(err.Error(), "event key k2") {
		t.Fatalf("[k1] after [k1 k2]: %v, want a refusal naming k2", err)
	}
	dropped, err := ring(t, nil, k2).Admit(rotated)
	if err != nil || dropped.Encrypting != "k2" || dropped.Keys["k1"] == "" {
		t.Fatalf("[k2] after [k1 k2]: %+v, %v; want k1 remembered", dropped, err)
	}
	otherSecret := "k1:" + strings.Repeat("09", 32)
	for _, keys := range [][]string{{otherSecret}, {otherSecret, k2}} {
		_, err := ring(t, nil, keys...).Admit(dropped)
		if err == nil || !strings.Contains(err.Error(), "event key k1 is not the key") || strings.Contains(err.Error(), strings.Repeat("09", 32)) {
			t.Fatalf("another secret under k1 (%d keys): %v", len(keys), err)
		}
	}
}

// FuzzIsSealed: never panics, and a value it accepts decrypts.
func FuzzIsSealed(f *testing.F) {
	r := ring(f, nil, k1, k2)
	enc, _ := r.Encrypt([]byte(`"c-42"`))
	raw, _ := json.Marshal(enc)
	f.Add(raw)
	f.Add([]byte(`"wims:enc:k1:x:y"`))
	f.Add([]byte(`"wims:enc:\u006b1:a:b"`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !r.IsSealed(raw) {
			return
		}
		var s string
		if err := json.Unmarshal(bytes.TrimSpace(raw), &s); err != nil {
			t.Fatalf("IsSealed(%s) but it is no string: %v", raw, err)
		}
		if _, err := r.Decrypt(s); err != nil {
			t.Fatalf("IsSealed(%s) but it does not decrypt: %v", raw, err)
		}
	})
}
