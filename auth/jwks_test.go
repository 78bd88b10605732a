package auth_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/auth/jwkstest"
)

// startJWKS returns a started JWKS of cfg, closed at the end of the test.
func startJWKS(t *testing.T, cfg auth.JWKSConfig) (*auth.JWKS, error) {
	t.Helper()
	j, err := auth.NewJWKS(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(j.Close)
	return j, j.Start(context.Background())
}

func mustStartJWKS(t *testing.T, cfg auth.JWKSConfig) *auth.JWKS {
	t.Helper()
	j, err := startJWKS(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestJWKS_RS256AndES256: keys published without "alg" verify the algorithm
// of their type and curve, chosen by the token's kid; any other alg in the
// header is refused, and so is a kid that is not published.
func TestJWKS_RS256AndES256(t *testing.T) {
	rs := jwkstest.RSA(t, "rsa-1", 0)
	es := jwkstest.EC(t, "ec-1")
	srv := jwkstest.NewServer(t, rs, es)
	j := mustStartJWKS(t, auth.JWKSConfig{URLs: []string{srv.URL}})
	v := mustVerifier(t, auth.Config{JWKS: j, Issuer: "https://idp.example/", Audience: "assign"})
	claims := valid(jwt.MapClaims{"iss": "https://idp.example/", "aud": "assign"})

	for _, k := range []*jwkstest.Key{rs, es} {
		c, err := v.Verify([]byte(k.Sign(t, claims)))
		if err != nil || c.Subject != "user-1" {
			t.Fatalf("%s token: claims=%+v err=%v", k.Method.Alg(), c, err)
		}
	}
	if got := j.Status().Sources[0].Keys; got != 2 {
		t.Fatalf("Keys=%d, want 2", got)
	}

	// The algorithm is the key's, never the token's.
	rs384 := &jwkstest.Key{KID: rs.KID, Private: rs.Private, Method: jwt.SigningMethodRS384}
	wantReason(t, v, []byte(rs384.Sign(t, claims)), auth.ReasonAlgNotAllowed)
	ps256 := &jwkstest.Key{KID: rs.KID, Private: rs.Private, Method: jwt.SigningMethodPS256}
	wantReason(t, v, []byte(ps256.Sign(t, claims)), auth.ReasonAlgNotAllowed)
	// An EC key's kid on an RSA-signed token, and the reverse.
	crossed := &jwkstest.Key{KID: es.KID, Private: rs.Private, Method: jwt.SigningMethodRS256}
	wantReason(t, v, []byte(crossed.Sign(t, claims)), auth.ReasonAlgNotAllowed)

	// Signed by a key that is not published, under a published kid or not.
	other := jwkstest.RSA(t, rs.KID, 1)
	wantReason(t, v, []byte(other.Sign(t, claims)), auth.ReasonBadSignature)
	wantReason(t, v, []byte((&jwkstest.Key{KID: "nope", Private: other.Private, Method: other.Method}).Sign(t, claims)), auth.ReasonUnknownKey)
	noKid, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(rs.Private)
	wantReason(t, v, []byte(noKid), auth.ReasonUnknownKey)

	// The issuer and audience checks apply to JWKS tokens too.
	wantReason(t, v, []byte(rs.Sign(t, valid(jwt.MapClaims{"iss": "https://evil.example/", "aud": "assign"}))), auth.ReasonWrongIssuer)
	wantReason(t, v, []byte(es.Sign(t, valid(jwt.MapClaims{"iss": "https://idp.example/", "aud": "other"}))), auth.ReasonWrongAudience)
	wantReason(t, v, []byte(es.Sign(t, valid(jwt.MapClaims{"iss": "https://idp.example/", "aud": "assign", "exp": t0.Add(-time.Minute).Unix()}))), auth.ReasonExpired)
}

// TestJWKS_PublishedAlg: a key's published "alg" is the one it verifies.
func TestJWKS_PublishedAlg(t *testing.T) {
	rs := jwkstest.RSA(t, "rsa-ps", 0)
	rs.Alg, rs.Method = "PS256", jwt.SigningMethodPS256
	srv := jwkstest.NewServer(t, rs)
	v := mustVerifier(t, auth.Config{JWKS: mustStartJWKS(t, auth.JWKSConfig{URLs: []string{srv.URL}})})
	if _, err := v.Verify([]byte(rs.Sign(t, valid(nil)))); err != nil {
		t.Fatal(err)
	}
	rs256 := &jwkstest.Key{KID: rs.KID, Private: rs.Private, Method: jwt.SigningMethodRS256}
	wantReason(t, v, []byte(rs256.Sign(t, valid(nil))), auth.ReasonAlgNotAllowed)
}

// hs256 signs header and claims with HMAC-SHA256 under key, by hand: the
// library refuses to sign with an RSA key's bytes only by type.
func hs256Kid(t *testing.T, header map[string]any, claims jwt.MapClaims, key []byte) []byte {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

// TestJWKS_AlgConfusion: an RS256 key's kid on a token whose header says
// HS256 and whose MAC is keyed with the public key's bytes (PEM, DER, or the
// JWK's modulus) is refused, with or without an HS256 secret configured; so
// are "none" and a symmetric key published in the set.
func TestJWKS_AlgConfusion(t *testing.T) {
	rs := jwkstest.RSA(t, "rsa-1", 0)
	sym := []byte("a-shared-secret-published-in-a-jwks!!")
	doc := fmt.Sprintf(`{"keys":[%s,{"kty":"oct","kid":"sym","k":%q},{"kty":"oct","kid":"sym-hs","alg":"HS256","k":%q}]}`,
		mustJSONKey(t, rs), base64.RawURLEncoding.EncodeToString(sym), base64.RawURLEncoding.EncodeToString(sym))
	srv := jwkstest.NewServer(t)
	srv.PublishRaw([]byte(doc))
	j := mustStartJWKS(t, auth.JWKSConfig{URLs: []string{srv.URL}})
	if got := j.Status().Sources[0].Keys; got != 1 {
		t.Fatalf("Keys=%d, want 1: symmetric keys are never loaded from a JWKS", got)
	}
	der, _ := x509.MarshalPKIXPublicKey(rs.Private.Public())
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})

	for name, cfg := range map[string]auth.Config{
		"JWKSOnly":       {JWKS: j},
		"WithHS256Too":   {JWKS: j, HS256Secret: secret},
		"WithPEMKeyToo":  {JWKS: j, PublicKeyPEM: pemBytes},
		"NoCacheAllKeys": {JWKS: j, HS256Secret: secret, PublicKeyPEM: pemBytes, CacheSize: -1},
	} {
		t.Run(name, func(t *testing.T) {
			v := mustVerifier(t, cfg)
			hdr := map[string]any{"kid": rs.KID}
			for keyName, key := range map[string][]byte{"PEM": pemBytes, "DER": der, "JWKModulus": []byte(rs.JWK(t).N)} {
				tok := hs256Kid(t, hdr, valid(nil), key)
				_, err := v.Verify(tok)
				if r := auth.Reason(err); r != auth.ReasonAlgNotAllowed && r != auth.ReasonBadSignature {
					t.Fatalf("HS256 keyed with the RSA key's %s: reason %q (err %v), want a refusal", keyName, r, err)
				}
			}
			for _, kid := range []string{"sym", "sym-hs"} {
				if _, err := v.Verify(hs256Kid(t, map[string]any{"kid": kid}, valid(nil), sym)); err == nil {
					t.Fatalf("HS256 token under the published symmetric key %q accepted", kid)
				}
			}
			none := []byte(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"rsa-1"}`)) + "." +
				base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":"user-1","exp":%d}`, t0.Add(time.Hour).Unix()))) + ".")
			wantReason(t, v, none, auth.ReasonAlgNotAllowed)
			// The genuine RS256 token still verifies.
			if _, err := v.Verify([]byte(rs.Sign(t, valid(nil)))); err != nil {
				t.Fatal(err)
			}
		})
	}
	// The confused token does not even reach a MAC when no secret is set.
	v := mustVerifier(t, auth.Config{JWKS: j})
	wantReason(t, v, hs256Kid(t, map[string]any{"kid": rs.KID}, valid(nil), pemBytes), auth.ReasonAlgNotAllowed)
}

func jsonOf(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustJSONKey(t *testing.T, k *jwkstest.Key) string {
	doc := string(jwkstest.Set(t, k))
	return strings.TrimSuffix(strings.TrimPrefix(doc, `{"keys":[`), `]}`)
}

// TestJWKS_KeysLeftOut: keys that are not for signatures, or whose alg does
// not fit their type, are left out; the others of the set load.
func TestJWKS_KeysLeftOut(t *testing.T) {
	good := jwkstest.EC(t, "good")
	enc := jwkstest.EC(t, "enc")
	encJWK := enc.JWK(t)
	encJWK.USE = "enc"
	badAlg := jwkstest.EC(t, "es384-on-p256")
	badAlg.Alg = "ES384"
	rsaAsHS := jwkstest.RSA(t, "rsa-as-hs", 0)
	rsaAsHS.Alg = "HS256"
	noKid := jwkstest.EC(t, "")
	ops := jwkstest.EC(t, "sign-only")
	opsJWK := ops.JWK(t)
	opsJWK.KEYOPS = []jwkset.KEYOPS{jwkset.KeyOpsSign}
	parts := []string{mustJSONKey(t, good), mustJSONKey(t, badAlg), mustJSONKey(t, rsaAsHS), mustJSONKey(t, noKid),
		jsonOf(t, encJWK), jsonOf(t, opsJWK), mustJSONKey(t, good) /* a kid twice: the first is kept */}
	srv := jwkstest.NewServer(t)
	srv.PublishRaw([]byte(`{"keys":[` + strings.Join(parts, ",") + `]}`))
	j := mustStartJWKS(t, auth.JWKSConfig{URLs: []string{srv.URL}})
	if got := j.Status().Sources[0].Keys; got != 1 {
		t.Fatalf("Keys=%d, want 1 (only %q)", got, good.KID)
	}
	v := mustVerifier(t, auth.Config{JWKS: j})
	if _, err := v.Verify([]byte(good.Sign(t, valid(nil)))); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*jwkstest.Key{enc, badAlg, ops} {
		wantReason(t, v, []byte(k.Sign(t, valid(nil))), auth.ReasonUnknownKey)
	}

	// A set without any usable key is a failed fetch.
	empty := jwkstest.NewServer(t)
	empty.PublishRaw([]byte(`{"keys":[]}`))
	if _, err := startJWKS(t, auth.JWKSConfig{URLs: []string{empty.URL}}); err == nil || !strings.Contains(err.Error(), "no usable signing key") {
		t.Fatalf("empty set: err=%v, want no usable signing key", err)
	}
	html := jwkstest.NewServer(t)
	html.PublishRaw([]byte(`<html>login</html>`))
	if _, err := startJWKS(t, auth.JWKSConfig{URLs: []string{html.URL}}); err == nil || !strings.Contains(err.Error(), "invalid JWKS document") {
		t.Fatalf("HTML page: err=%v, want invalid JWKS document", err)
	}
}

// TestJWKS_Rotation rotates the keys under load: several goroutines verify
// tokens continuously while a new key is published (its tokens appear at
// once, before any periodic refresh could have seen it) and then the old one
// removed. No token of a published key is refused; once the removal is
// fetched, no token of the removed key is accepted, not even one the
// verifier had cached.
func TestJWKS_Rotation(t *testing.T) {
	a, b := jwkstest.RSA(t, "key-a", 0), jwkstest.RSA(t, "key-b", 1)
	srv := jwkstest.NewServer(t, a)
	j := mustStartJWKS(t, auth.JWKSConfig{URLs: []string{srv.URL}, RefreshInterval: 300 * time.Millisecond, MinRefreshInterval: 50 * time.Millisecond})
	v := mustVerifier(t, auth.Config{JWKS: j, CacheSize: 1024})

	// Pools of tokens per key (distinct users): the cache serves repeats.
	pool := func(k *jwkstest.Key, n int) [][]byte {
		var out [][]byte
		for i := range n {
			out = append(out, []byte(k.Sign(t, valid(jwt.MapClaims{"sub": fmt.Sprintf("%s-user-%d", k.KID, i)}))))
		}
		return out
	}
	tokA, tokB := pool(a, 32), pool(b, 32)

	// phase: 0 only A is published, 1 A and B, 2 A is removed (its tokens
	// are then a stale signer's, to be refused once the removal is fetched).
	var phase atomic.Int32
	var removedFetched atomic.Bool // a verification of A failed after phase 2
	var refusedValid, acceptedRemoved, verified atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := phase.Load()
				useB := p >= 1 && i%2 == 1 // in phase 2 A's tokens are a stale signer's
				tok := tokA[i%len(tokA)]
				if useB {
					tok = tokB[i%len(tokB)]
				}
				wasRemoved := removedFetched.Load()
				_, err := v.Verify(tok)
				verified.Add(1)
				switch {
				// A's removal is published after phase 2 begins: a refusal of
				// A seen still in phase 1 is a valid token refused.
				case err != nil && (useB || phase.Load() < 2):
					refusedValid.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("phase %d B=%v: %v", p, useB, err))
				case err == nil && !useB && wasRemoved:
					acceptedRemoved.Add(1)
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	hitsBefore := srv.Hits()
	srv.Publish(t, a, b)
	phase.Store(1) // B's tokens appear at once: the unknown kid fetches
	time.Sleep(500 * time.Millisecond)
	if srv.Hits() == hitsBefore {
		t.Fatal("publishing B caused no fetch")
	}
	phase.Store(2)
	srv.Publish(t, b)

	// A's tokens stop verifying within a refresh interval (and a bit).
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, err := v.Verify(tokA[0]); err != nil {
			if r := auth.Reason(err); r != auth.ReasonUnknownKey {
				t.Fatalf("removed key's token: reason %q, want %q", r, auth.ReasonUnknownKey)
			}
			removedFetched.Store(true)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the removed key's cached token is still accepted 3 s after its removal")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(400 * time.Millisecond) // more load, past another periodic refresh
	close(stop)
	wg.Wait()

	if n := refusedValid.Load(); n > 0 {
		t.Fatalf("%d tokens of a published key refused; first: %v", n, firstErr.Load())
	}
	if n := acceptedRemoved.Load(); n > 0 {
		t.Fatalf("%d tokens of the removed key accepted after the refresh", n)
	}
	// Every token of A, cached or newly signed, is refused now.
	for _, tok := range append(tokA, []byte(a.Sign(t, valid(jwt.MapClaims{"sub": "fresh"})))) {
		wantReason(t, v, tok, auth.ReasonUnknownKey)
	}
	st := j.Status()
	t.Logf("%d verifications; %d fetches; %d caused by unknown kids, %d unknown kids refused by the rate limit",
		verified.Load(), srv.Hits(), st.UnknownKIDRefreshes, st.UnknownKIDLimited)
	if verified.Load() < 1000 {
		t.Fatalf("only %d verifications: not under load", verified.Load())
	}
}

// TestJWKS_UnknownKIDRateLimit: tokens with forged kids cause one fetch per
// MinRefreshInterval, however many arrive and however concurrently.
func TestJWKS_UnknownKIDRateLimit(t *testing.T) {
	a := jwkstest.EC(t, "real")
	srv := jwkstest.NewServer(t, a)
	j := mustStartJWKS(t, auth.JWKSConfig{URLs: []string{srv.URL}, MinRefreshInterval: 2 * time.Second})
	v := mustVerifier(t, auth.Config{JWKS: j})
	if got := srv.Hits(); got != 1 {
		t.Fatalf("hits after start = %d, want 1", got)
	}
	forge := func(i int) []byte {
		return []byte((&jwkstest.Key{KID: fmt.Sprintf("forged-%d", i), Private: a.Private, Method: a.Method}).Sign(t, valid(nil)))
	}
	forged := make([][]byte, 400)
	for i := range forged {
		forged[i] = forge(i)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for _, tok := range forged[g*50 : (g+1)*50] {
				_, err := v.Verify(tok)
				if r := auth.Reason(err); r != auth.ReasonUnknownKey {
					t.Errorf("forged kid: reason %q, want %q", r, auth.ReasonUnknownKey)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := srv.Hits(); got != 2 {
		t.Fatalf("hits after 400 forged kids = %d, want 2 (the start and one refresh)", got)
	}
	st := j.Status()
	if st.UnknownKIDRefreshes != 1 || st.UnknownKIDLimited == 0 {
		t.Fatalf("status %+v, want 1 unknown-kid refresh and the rest limited", st)
	}
	// The real key still verifies meanwhile, from the cache of keys.
	if _, err := v.Verify([]byte(a.Sign(t, valid(nil)))); err != nil {
		t.Fatal(err)
	}
	// After the interval, one more fetch is allowed.
	time.Sleep(2100 * time.Millisecond)
	v.Verify(forge(99999))
	v.Verify(forge(99998))
	if got := srv.Hits(); got != 3 {
		t.Fatalf("hits after the interval = %d, want 3", got)
	}
}

// TestJWKS_EndpointDown: while the endpoint fails, the keys already loaded
// keep verifying, the failures are counted with their cause, and the JWKS
// stays ready; when it answers again, the error clears.
func TestJWKS_EndpointDown(t *testing.T) {
	a := jwkstest.RSA(t, "a", 0)
	srv := jwkstest.NewServer(t, a)
	j := mustStartJWKS(t, auth.JWKSConfig{URLs: []string{srv.URL}, RefreshInterval: 50 * time.Millisecond, MinRefreshInterval: 50 * time.Millisecond})
	v := mustVerifier(t, auth.Config{JWKS: j, CacheSize: -1})

	srv.Fail(503)
	waitFor(t, func() bool { return j.Status().Sources[0].Failures >= 2 })
	st := j.Status().Sources[0]
	if st.Keys != 1 || st.LastError != "HTTP status 503" || !st.Loaded || st.LastSuccess.IsZero() {
		t.Fatalf("status while down: %+v", st)
	}
	if err := j.Ready(); err != nil {
		t.Fatalf("Ready while down with keys loaded: %v", err)
	}
	if _, err := v.Verify([]byte(a.Sign(t, valid(jwt.MapClaims{"sub": "while-down"})))); err != nil {
		t.Fatalf("cached key while the endpoint is down: %v", err)
	}

	srv.Fail(0)
	waitFor(t, func() bool { return j.Status().Sources[0].LastError == "" })

	// A closed endpoint (nothing listening) is "unreachable".
	srv.Close()
	waitFor(t, func() bool { return j.Status().Sources[0].LastError == "unreachable" })
	if _, err := v.Verify([]byte(a.Sign(t, valid(jwt.MapClaims{"sub": "while-closed"})))); err != nil {
		t.Fatalf("cached key while the endpoint is closed: %v", err)
	}
}

// TestJWKS_NeverLoaded: a source that never answered makes the JWKS
// unready, saying which and why, until its retry loads it.
func TestJWKS_NeverLoaded(t *testing.T) {
	a := jwkstest.EC(t, "a")
	srv := jwkstest.NewServer(t, a)
	srv.Fail(500)
	j, err := startJWKS(t, auth.JWKSConfig{URLs: []string{srv.URL}, MinRefreshInterval: 50 * time.Millisecond})
	if err == nil {
		t.Fatal("Start succeeded with the only source failing")
	}
	var rm interface{ ReadinessMessage() string }
	if err := j.Ready(); !errors.As(err, &rm) || !strings.Contains(rm.ReadinessMessage(), "HTTP status 500") {
		t.Fatalf("Ready=%v, want a readiness message with the cause", err)
	}
	v := mustVerifier(t, auth.Config{JWKS: j})
	wantReason(t, v, []byte(a.Sign(t, valid(nil))), auth.ReasonUnknownKey)
	srv.Fail(0)
	waitFor(t, func() bool { return j.Ready() == nil })
	if _, err := v.Verify([]byte(a.Sign(t, valid(jwt.MapClaims{"sub": "later"})))); err != nil {
		t.Fatal(err)
	}
}

// TestJWKS_File: a JWKS file is read at start and again on a refresh (here
// caused by a token of a key added to it).
func TestJWKS_File(t *testing.T) {
	a, b := jwkstest.EC(t, "a"), jwkstest.EC(t, "b")
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwkstest.Set(t, a), 0o600); err != nil {
		t.Fatal(err)
	}
	j := mustStartJWKS(t, auth.JWKSConfig{Files: []string{path}})
	v := mustVerifier(t, auth.Config{JWKS: j})
	if _, err := v.Verify([]byte(a.Sign(t, valid(nil)))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, jwkstest.Set(t, a, b), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify([]byte(b.Sign(t, valid(nil)))); err != nil {
		t.Fatalf("key added to the file: %v", err)
	}
	if _, err := startJWKS(t, auth.JWKSConfig{Files: []string{filepath.Join(t.TempDir(), "missing.json")}}); err == nil {
		t.Fatal("a missing file started")
	}
}

// TestJWKS_SeveralSources: keys of every URL and file verify; a source that
// fails does not stop the others.
func TestJWKS_SeveralSources(t *testing.T) {
	a, b, c := jwkstest.RSA(t, "a", 0), jwkstest.EC(t, "b"), jwkstest.EC(t, "c")
	s1, s2 := jwkstest.NewServer(t, a), jwkstest.NewServer(t, b)
	path := filepath.Join(t.TempDir(), "jwks.json")
	os.WriteFile(path, jwkstest.Set(t, c), 0o600)
	j := mustStartJWKS(t, auth.JWKSConfig{URLs: []string{s1.URL, s2.URL}, Files: []string{path}})
	v := mustVerifier(t, auth.Config{JWKS: j, HS256Secret: secret})
	for _, k := range []*jwkstest.Key{a, b, c} {
		if _, err := v.Verify([]byte(k.Sign(t, valid(nil)))); err != nil {
			t.Fatalf("%s: %v", k.KID, err)
		}
	}
	if _, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, valid(nil))); err != nil {
		t.Fatalf("HS256 beside a JWKS: %v", err)
	}
	if got := len(j.Status().Sources); got != 3 {
		t.Fatalf("%d sources, want 3", got)
	}
	for _, bad := range [][]string{{"ftp://x/jwks"}, {"not a url"}, {s1.URL, s1.URL}} {
		if _, err := auth.NewJWKS(auth.JWKSConfig{URLs: bad}); err == nil {
			t.Fatalf("NewJWKS(%q) accepted", bad)
		}
	}
}

// TestJWKS_NoDowngradeRedirect: an https endpoint redirecting to http is a
// failed fetch; a redirect within https is followed.
func TestJWKS_NoDowngradeRedirect(t *testing.T) {
	a := jwkstest.EC(t, "a")
	plain := jwkstest.NewServer(t, a)
	var target atomic.Value
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/jwks.json" {
			w.Write(jwkstest.Set(t, a))
			return
		}
		http.Redirect(w, r, target.Load().(string), http.StatusFound)
	}))
	defer tlsSrv.Close()

	target.Store(plain.URL)
	if _, err := startJWKS(t, auth.JWKSConfig{URLs: []string{tlsSrv.URL + "/moved"}, Client: tlsSrv.Client()}); err == nil {
		t.Fatal("a redirect from https to http was followed")
	}
	if plain.Hits() != 0 {
		t.Fatalf("the http endpoint was fetched %d times", plain.Hits())
	}
	target.Store(tlsSrv.URL + "/jwks.json")
	mustStartJWKS(t, auth.JWKSConfig{URLs: []string{tlsSrv.URL + "/moved"}, Client: tlsSrv.Client()})
}

// TestJWKS_CachedTokenNoAllocs: a returning JWKS token costs no allocation,
// as a returning HS256 token does.
func TestJWKS_CachedTokenNoAllocs(t *testing.T) {
	a := jwkstest.EC(t, "a")
	srv := jwkstest.NewServer(t, a)
	v := mustVerifier(t, auth.Config{JWKS: mustStartJWKS(t, auth.JWKSConfig{URLs: []string{srv.URL}})})
	tok := []byte(a.Sign(t, valid(nil)))
	if _, err := v.Verify(tok); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() { v.Verify(tok) }); n != 0 {
		t.Fatalf("%v allocations per cached verification, want 0", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
