// Package jwkstest serves JSON Web Key Sets over HTTP for tests, the way an
// identity provider does, with keys that sign tokens: a set can be changed
// (rotation), made to fail, and its fetches counted.
package jwkstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// Key is a signing key with its kid.
type Key struct {
	KID     string
	Private crypto.Signer
	Method  jwt.SigningMethod
	// Alg, when set, is published as the key's "alg"; empty publishes none
	// (the verifier then takes the algorithm from the key type).
	Alg string
}

var (
	rsaKeys   []*rsa.PrivateKey
	rsaKeysMu sync.Mutex
)

// RSA returns an RS256 key of 2048 bits. Generated keys are reused across
// the tests of a process by index (i), since generating them is slow.
func RSA(tb testing.TB, kid string, i int) *Key {
	tb.Helper()
	rsaKeysMu.Lock()
	defer rsaKeysMu.Unlock()
	for len(rsaKeys) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tb.Fatal(err)
		}
		rsaKeys = append(rsaKeys, k)
	}
	return &Key{KID: kid, Private: rsaKeys[i], Method: jwt.SigningMethodRS256}
}

// EC returns an ES256 key on P-256.
func EC(tb testing.TB, kid string) *Key {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return &Key{KID: kid, Private: k, Method: jwt.SigningMethodES256}
}

// Sign returns a token of claims signed by k, its header naming k.KID.
func (k *Key) Sign(tb testing.TB, claims jwt.MapClaims) string {
	tb.Helper()
	t := jwt.NewWithClaims(k.Method, claims)
	t.Header["kid"] = k.KID
	s, err := t.SignedString(k.Private)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// JWK returns the public JWK of k, as published.
func (k *Key) JWK(tb testing.TB) jwkset.JWKMarshal {
	tb.Helper()
	j, err := jwkset.NewJWKFromKey(k.Private.Public(), jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{KID: k.KID, ALG: jwkset.ALG(k.Alg), USE: jwkset.UseSig},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return j.Marshal()
}

// Set returns the JWKS document of keys.
func Set(tb testing.TB, keys ...*Key) []byte {
	tb.Helper()
	doc := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, k := range keys {
		doc.Keys = append(doc.Keys, k.JWK(tb))
	}
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Server serves one JWKS document on a free port of 127.0.0.1.
type Server struct {
	*httptest.Server
	doc    atomic.Pointer[[]byte]
	status atomic.Int32 // 0: serve the document; else answer this status
	hits   atomic.Int64
}

// NewServer serves keys until the test ends.
func NewServer(tb testing.TB, keys ...*Key) *Server {
	tb.Helper()
	s := &Server{}
	s.Publish(tb, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if code := s.status.Load(); code != 0 {
			http.Error(w, "down", int(code))
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(*s.doc.Load())
	}))
	tb.Cleanup(s.Close)
	return s
}

// Publish replaces the served set by keys.
func (s *Server) Publish(tb testing.TB, keys ...*Key) {
	tb.Helper()
	b := Set(tb, keys...)
	s.doc.Store(&b)
}

// PublishRaw replaces the served document by doc.
func (s *Server) PublishRaw(doc []byte) { s.doc.Store(&doc) }

// Fail makes every fetch answer status (503, 500...); 0 serves again.
func (s *Server) Fail(status int) { s.status.Store(int32(status)) }

// Hits counts the fetches served (or failed) so far.
func (s *Server) Hits() int64 { return s.hits.Load() }
