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
	macs    sync.Pool    // hash.Hash: HMAC-SHA256 keyed with the secret
	headers sync.Map     // header segment (string) -> struct{}: accepted HS256 headers
	nHeader atomic.Int64 // headers remembered, bounded by maxFastHeaders
	hits    atomic.Int64 // tokens accepted here, for tests
}

// maxFastHeaders bounds the remembered header segments: one issuer uses one
// or a few; the bound keeps a flood of odd headers from growing memory.
const maxFastHeaders = 64

func newFastHS256(secret []byte) *fastHS256 {
	f := &fastHS256{}
	f.macs.New = func() any { return hmac.New(sha256.New, secret) }
	return f
}

// remember records the header segment of a token the library accepted as
// HS256.
func (f *fastHS256) remember(token []byte) {
	if f.nHeader.Load() >= maxFastHeaders {
		return
	}
	if i := bytes.IndexByte(token, '.'); i > 0 {
		if _, loaded := f.headers.LoadOrStore(string(token[:i]), struct{}{}); !loaded {
			f.nHeader.Add(1)
		}
	}
}

// fastVerify returns the claims of token and its expiry when it is certainly
// valid, or ok=false to let the library decide.
func (v *Verifier) fastVerify(token []byte) (c Claims, exp time.Time, ok bool) {
	f := v.fast
	h := bytes.IndexByte(token, '.')
	s := bytes.LastIndexByte(token, '.')
	if h <= 0 || s <= h {
		return c, exp, false
	}
	if _, known := f.headers.Load(string(token[:h])); !known { // no allocation: map lookup by converted bytes
		return c, exp, false
	}

	// Signature: HMAC-SHA256 over "header.payload", compared in constant time.
	var sig [sha256.Size]byte
	if base64.RawURLEncoding.Strict().DecodedLen(len(token)-s-1) != len(sig) {
		return c, exp, false
	}
	if n, err := base64.RawURLEncoding.Strict().Decode(sig[:], token[s+1:]); err != nil || n != len(sig) {
		return c, exp, false
	}
	mac := f.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write(token[:s])
	var sum [sha256.Size]byte
	good := hmac.Equal(mac.Sum(sum[:0]), sig[:])
	f.macs.Put(mac)
	if !good {
		return c, exp, false
	}

	// Claims, decoded as the library does (numbers are float64).
	payload := make([]byte, base64.RawURLEncoding.DecodedLen(s-h-1))
	n, err := base64.RawURLEncoding.Strict().Decode(payload, token[h+1:s])
	if err != nil {
		return c, exp, false
	}
	var values map[string]any
	if json.Unmarshal(payload[:n], &values) != nil || values == nil {
		return c, exp, false
	}

	now := v.now()
	e, isNum := values["exp"].(float64)
	if !isNum || !now.Before(unixTime(e).Add(v.leeway)) {
		return c, exp, false
	}
	if raw, present := values["nbf"]; present {
		nbf, isNum := raw.(float64)
		if !isNum || now.Add(v.leeway).Before(unixTime(nbf)) {
			return c, exp, false
		}
	}
	if v.issuer != "" {
		if iss, _ := values["iss"].(string); iss != v.issuer {
			return c, exp, false
		}
	}
	if v.audience != "" && !hasAudience(values["aud"], v.audience) {
		return c, exp, false
	}
	sub, _ := values["sub"].(string)
	if sub == "" {
		return c, exp, false
	}
	f.hits.Add(1)
	return Claims{Subject: sub, Values: values}, unixTime(e), true
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
