package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// fastHS256 verifies HS256 tokens whose header segment the library has
// already accepted once, without the library: a pooled HMAC, one strict
// base64 decode and one JSON decode of the claims. Any token it cannot
// accept for certain (an unknown header, a bad signature, an unusual claim)
// falls back to the library, which decides and names the reason; so the fast
// path only ever says yes, and only where the library would too.
type fastHS256 struct {
	macs sync.Pool // *fastMAC: HMAC-SHA256 keyed with the secret
	// headers holds the accepted HS256 header segments, at most
	// maxFastHeaders, as a map that is never modified once published: a
	// lookup by converted bytes then allocates nothing (a sync.Map's any key
	// did, one string per token). remember copies it under mu.
	headers atomic.Pointer[map[string]struct{}]
	mu      sync.Mutex   // serializes remember
	hits    atomic.Int64 // tokens accepted here, for tests
}

// fastMAC is a pooled HMAC with room for its sum, which would escape to the
// heap through the hash.Hash interface if it were a local.
type fastMAC struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

// maxFastHeaders bounds the remembered header segments: one issuer uses one
// or a few; the bound keeps a flood of odd headers from growing memory.
const maxFastHeaders = 64

func newFastHS256(secret []byte) *fastHS256 {
	f := &fastHS256{}
	f.macs.New = func() any { return &fastMAC{mac: hmac.New(sha256.New, secret)} }
	f.headers.Store(&map[string]struct{}{})
	return f
}

// remember records the header segment of a token the library accepted as
// HS256.
func (f *fastHS256) remember(token []byte) {
	i := bytes.IndexByte(token, '.')
	if i <= 0 {
		return
	}
	if old := *f.headers.Load(); len(old) >= maxFastHeaders {
		return
	} else if _, known := old[string(token[:i])]; known {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old := *f.headers.Load()
	if _, known := old[string(token[:i])]; known || len(old) >= maxFastHeaders {
		return
	}
	m := make(map[string]struct{}, len(old)+1)
	for k := range old {
		m[k] = struct{}{}
	}
	m[string(token[:i])] = struct{}{}
	f.headers.Store(&m)
}

// fastVerify returns the claims of token and its expiry when it is certainly
// valid, or ok=false to let the library decide. With a cache, kept is a
// copy of token for it, made in one allocation with the claims' strings.
func (v *Verifier) fastVerify(token []byte) (c Claims, exp time.Time, kept string, ok bool) {
	f := v.fast
	h := bytes.IndexByte(token, '.')
	s := bytes.LastIndexByte(token, '.')
	if h <= 0 || s <= h {
		return c, exp, "", false
	}
	if _, known := (*f.headers.Load())[string(token[:h])]; !known { // no allocation: map lookup by converted bytes
		return c, exp, "", false
	}

	// Signature: HMAC-SHA256 over "header.payload", compared in constant time.
	var sig [sha256.Size]byte
	if base64.RawURLEncoding.Strict().DecodedLen(len(token)-s-1) != len(sig) {
		return c, exp, "", false
	}
	if n, err := base64.RawURLEncoding.Strict().Decode(sig[:], token[s+1:]); err != nil || n != len(sig) {
		return c, exp, "", false
	}
	m := f.macs.Get().(*fastMAC)
	m.mac.Reset()
	m.mac.Write(token[:s])
	good := hmac.Equal(m.mac.Sum(m.sum[:0]), sig[:])
	f.macs.Put(m)
	if !good {
		return c, exp, "", false
	}

	// Claims, decoded as the library does (numbers are float64): by
	// decodeClaims into substrings of one copy of the payload, or, for a
	// payload it leaves alone, by encoding/json. The base64 decode goes to
	// the stack when it fits, after the token when the cache will keep it:
	// one string then holds the cache's copy of the token and the claims'.
	prefix := 0
	if v.cache != nil {
		prefix = len(token)
	}
	var stack [512]byte
	buf := stack[:]
	if n := prefix + base64.RawURLEncoding.DecodedLen(s-h-1); n > len(buf) {
		buf = make([]byte, n)
	}
	copy(buf, token[:prefix])
	n, err := base64.RawURLEncoding.Strict().Decode(buf[prefix:], token[h+1:s])
	if err != nil {
		return c, exp, "", false
	}
	all := string(buf[:prefix+n])
	payload := all[prefix:]
	values, decoded := decodeClaims(payload)
	if !decoded {
		var std map[string]any // declared here: &std moves it to the heap
		if json.Unmarshal([]byte(payload), &std) != nil || std == nil {
			return c, exp, "", false
		}
		values = std
	}

	now := v.now()
	e, isNum := values["exp"].(float64)
	if !isNum || !now.Before(unixTime(e).Add(v.leeway)) {
		return c, exp, "", false
	}
	if raw, present := values["nbf"]; present {
		nbf, isNum := raw.(float64)
		if !isNum || now.Add(v.leeway).Before(unixTime(nbf)) {
			return c, exp, "", false
		}
	}
	if v.issuer != "" {
		if iss, _ := values["iss"].(string); iss != v.issuer {
			return c, exp, "", false
		}
	}
	if v.audience != "" && !hasAudience(values["aud"], v.audience) {
		return c, exp, "", false
	}
	sub, _ := values["sub"].(string)
	if sub == "" {
		return c, exp, "", false
	}
	f.hits.Add(1)
	return Claims{Subject: sub, Values: values}, unixTime(e), all[:prefix], true
}

// unixTime converts a NumericDate to a time in whole seconds, as the
// library does (its TimePrecision is a second), so that the fast path
// never accepts a token in the fraction of a second the library refuses.
func unixTime(sec float64) time.Time {
	return time.Unix(int64(math.Floor(sec)), 0)
}

// hasAudience reports whether an aud claim (a string or an array of
// strings) names want.
func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, x := range a {
			if s, _ := x.(string); s == want {
				return true
			}
		}
	}
	return false
}
