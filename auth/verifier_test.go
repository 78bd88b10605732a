package auth_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/auth"
	"github.com/golang-jwt/jwt/v5"
)

var secret = []byte("test-secret-of-at-least-32-bytes!!")

// clock is a settable time source for Config.Now.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func sign(tb testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims) []byte {
	tb.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(s)
}

// valid returns claims valid at t0 for an hour.
func valid(extra jwt.MapClaims) jwt.MapClaims {
	c := jwt.MapClaims{"sub": "user-1", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func pemOf(tb testing.TB, pub any) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func mustVerifier(tb testing.TB, cfg auth.Config) *auth.Verifier {
	tb.Helper()
	if cfg.Now == nil {
		cfg.Now = (&clock{t0}).Now
	}
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func wantReason(t *testing.T, v *auth.Verifier, token []byte, want string) {
	t.Helper()
	_, err := v.Verify(token)
	if got := auth.Reason(err); got != want {
		t.Fatalf("Reason=%q, want %q (err=%v)", got, want, err)
	}
	if got := assign.ErrorCode(err); got != assign.EUNAUTHORIZED {
		t.Fatalf("ErrorCode=%q, want %q", got, assign.EUNAUTHORIZED)
	}
}

func TestNewVerifier(t *testing.T) {
	t.Run("ErrShortSecret", func(t *testing.T) {
		// RFC 7518 section 3.2: an HS256 key of at least 256 bits.
		for _, n := range []int{1, 16, 31} {
			if _, err := auth.NewVerifier(auth.Config{HS256Secret: []byte(strings.Repeat("k", n))}); err == nil || !strings.Contains(err.Error(), "at least 32") {
				t.Fatalf("a %d-byte secret: err=%v, want a refusal naming the minimum", n, err)
			}
		}
		if _, err := auth.NewVerifier(auth.Config{HS256Secret: []byte(strings.Repeat("k", 32))}); err != nil {
			t.Fatalf("a 32-byte secret: %v", err)
		}
	})
	t.Run("ErrNoKey", func(t *testing.T) {
		if _, err := auth.NewVerifier(auth.Config{}); err == nil {
			t.Fatal("expected error")
		}
	})
	t.Run("ErrBadPEM", func(t *testing.T) {
		if _, err := auth.NewVerifier(auth.Config{PublicKeyPEM: []byte("not a pem")}); err == nil {
			t.Fatal("expected error")
		}
		bad := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("garbage")})
		if _, err := auth.NewVerifier(auth.Config{PublicKeyPEM: bad}); err == nil {
			t.Fatal("expected error")
		}
	})
	t.Run("ErrPrivateKeyBlock", func(t *testing.T) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalECPrivateKey(k)
		p := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
		if _, err := auth.NewVerifier(auth.Config{PublicKeyPEM: p}); err == nil {
			t.Fatal("expected error")
		}
	})
	t.Run("Algorithms", func(t *testing.T) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		v := mustVerifier(t, auth.Config{HS256Secret: secret, PublicKeyPEM: pemOf(t, &k.PublicKey)})
		if got, want := strings.Join(v.Algorithms(), ","), "ES256,HS256"; got != want {
			t.Fatalf("Algorithms=%s, want %s", got, want)
		}
		r, _ := rsa.GenerateKey(rand.Reader, 2048)
		v = mustVerifier(t, auth.Config{PublicKeyPEM: pemOf(t, &r.PublicKey)})
		if got, want := strings.Join(v.Algorithms(), ","), "RS256"; got != want {
			t.Fatalf("Algorithms=%s, want %s", got, want)
		}
	})
}

func TestVerifier_Verify(t *testing.T) {
	v := mustVerifier(t, auth.Config{HS256Secret: secret, CacheSize: -1})

	t.Run("OK", func(t *testing.T) {
		c, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"first_order": true, "country": "NL"})))
		if err != nil {
			t.Fatal(err)
		} else if got, want := c.Subject, "user-1"; got != want {
			t.Fatalf("Subject=%q, want %q", got, want)
		} else if got, want := c.Values["first_order"], any(true); got != want {
			t.Fatalf("first_order=%v, want %v", got, want)
		} else if got, want := c.Values["country"], any("NL"); got != want {
			t.Fatalf("country=%v, want %v", got, want)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		wantReason(t, v, nil, auth.ReasonMissing)
		wantReason(t, v, []byte{}, auth.ReasonMissing)
	})
	t.Run("Malformed", func(t *testing.T) {
		for _, tok := range []string{"abc", "a.b", "a.b.c.d", "!!!.###.$$$", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln"} {
			wantReason(t, v, []byte(tok), auth.ReasonMalformed)
		}
	})
	t.Run("ClaimOfWrongType", func(t *testing.T) {
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": "tomorrow"})), auth.ReasonMalformed)
	})
	t.Run("BadSignature", func(t *testing.T) {
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-another"), valid(nil)), auth.ReasonBadSignature)
	})
	t.Run("TamperedPayload", func(t *testing.T) {
		tok := string(sign(t, jwt.SigningMethodHS256, secret, valid(nil)))
		parts := strings.Split(tok, ".")
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","exp":9999999999}`))
		wantReason(t, v, []byte(strings.Join(parts, ".")), auth.ReasonBadSignature)
	})
	t.Run("AlgNone", func(t *testing.T) {
		tok := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid(nil))
		wantReason(t, v, tok, auth.ReasonAlgNotAllowed)
		// A none header in front of a genuine HS256 signature is still refused.
		good := strings.Split(string(sign(t, jwt.SigningMethodHS256, secret, valid(nil))), ".")
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		wantReason(t, v, []byte(none+"."+good[1]+"."+good[2]), auth.ReasonAlgNotAllowed)
	})
	t.Run("AlgUnknown", func(t *testing.T) {
		good := strings.Split(string(sign(t, jwt.SigningMethodHS256, secret, valid(nil))), ".")
		for _, h := range []string{`{"alg":"XX999"}`, `{"typ":"JWT"}`} {
			hdr := base64.RawURLEncoding.EncodeToString([]byte(h))
			wantReason(t, v, []byte(hdr+"."+good[1]+"."+good[2]), auth.ReasonAlgNotAllowed)
		}
	})
	t.Run("AlgNotConfigured", func(t *testing.T) {
		wantReason(t, v, sign(t, jwt.SigningMethodHS512, secret, valid(nil)), auth.ReasonAlgNotAllowed)
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		wantReason(t, v, sign(t, jwt.SigningMethodES256, k, valid(nil)), auth.ReasonAlgNotAllowed)
	})
	t.Run("Expired", func(t *testing.T) {
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": t0.Add(-time.Second).Unix()})), auth.ReasonExpired)
	})
	t.Run("ExpiredButForgedReportsSignature", func(t *testing.T) {
		tok := sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-another"), valid(jwt.MapClaims{"exp": t0.Add(-time.Hour).Unix()}))
		wantReason(t, v, tok, auth.ReasonBadSignature)
	})
	t.Run("MissingExpiry", func(t *testing.T) {
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": nil})), auth.ReasonMissingExpiry)
	})
	t.Run("NotYetValid", func(t *testing.T) {
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"nbf": t0.Add(time.Minute).Unix()})), auth.ReasonNotYetValid)
	})
	t.Run("MissingSubject", func(t *testing.T) {
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"sub": nil})), auth.ReasonMissingSubject)
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"sub": ""})), auth.ReasonMissingSubject)
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"sub": 42})), auth.ReasonMissingSubject)
	})
}

// TestVerifier_FastPath checks that HS256 tokens with a header the library
// accepted once are verified without it, to the same claims, and that every
// token the fast path cannot vouch for still gets the library's verdict.
func TestVerifier_FastPath(t *testing.T) {
	fast := mustVerifier(t, auth.Config{HS256Secret: secret, CacheSize: -1, Leeway: 10 * time.Second})
	extra := jwt.MapClaims{"first_order": true, "tier": 2, "aud": []string{"x"}, "nbf": t0.Add(-time.Minute).Unix()}
	first, err := fast.Verify(sign(t, jwt.SigningMethodHS256, secret, valid(extra)))
	if err != nil {
		t.Fatal(err)
	} else if got := auth.FastHits(fast); got != 0 {
		t.Fatalf("FastHits=%d before any header was accepted, want 0", got)
	}
	second, err := fast.Verify(sign(t, jwt.SigningMethodHS256, secret, valid(extra)))
	if err != nil {
		t.Fatal(err)
	} else if got := auth.FastHits(fast); got != 1 {
		t.Fatalf("FastHits=%d, want 1", got)
	}
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("fast path claims %v differ from the library's %v", second, first)
	}

	// At the edges of exp and nbf (with leeway), the fast path says no and
	// the library decides.
	wantReason(t, fast, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": t0.Add(-10 * time.Second).Unix()})), auth.ReasonExpired)
	wantReason(t, fast, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"nbf": t0.Add(11 * time.Second).Unix()})), auth.ReasonNotYetValid)
	if _, err := fast.Verify(sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": t0.Add(-9 * time.Second).Unix()}))); err != nil {
		t.Fatalf("expired within leeway: %v", err)
	}
	// A fractional exp is cut to the second, as the library does.
	if _, err := fast.Verify(sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": float64(t0.Add(-10*time.Second).Unix()) + 0.5}))); auth.Reason(err) != auth.ReasonExpired {
		t.Fatalf("fractional exp at the edge: %v, want expired", err)
	}
	hits := auth.FastHits(fast)
	wantReason(t, fast, sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-another"), valid(nil)), auth.ReasonBadSignature)
	wantReason(t, fast, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"sub": ""})), auth.ReasonMissingSubject)
	wantReason(t, fast, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": "soon"})), auth.ReasonMalformed)
	if got := auth.FastHits(fast); got != hits {
		t.Fatalf("FastHits moved from %d to %d on refused tokens", hits, got)
	}
}

func TestVerifier_IssuerAudience(t *testing.T) {
	v := mustVerifier(t, auth.Config{HS256Secret: secret, Issuer: "https://id.example", Audience: "assign", CacheSize: -1})
	ok := jwt.MapClaims{"iss": "https://id.example", "aud": []string{"other", "assign"}}

	if _, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, valid(ok))); err != nil {
		t.Fatalf("OK: %v", err)
	}
	t.Run("WrongIssuer", func(t *testing.T) {
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"iss": "https://evil.example", "aud": "assign"})), auth.ReasonWrongIssuer)
	})
	t.Run("MissingIssuer", func(t *testing.T) {
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"aud": "assign"})), auth.ReasonWrongIssuer)
	})
	t.Run("WrongAudience", func(t *testing.T) {
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"iss": "https://id.example", "aud": "billing"})), auth.ReasonWrongAudience)
	})
	t.Run("MissingAudience", func(t *testing.T) {
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"iss": "https://id.example"})), auth.ReasonWrongAudience)
	})
}

func TestVerifier_Leeway(t *testing.T) {
	v := mustVerifier(t, auth.Config{HS256Secret: secret, Leeway: time.Minute, CacheSize: -1})
	if _, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": t0.Add(-30 * time.Second).Unix()}))); err != nil {
		t.Fatalf("expired within leeway: %v", err)
	}
	wantReason(t, v, sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": t0.Add(-2 * time.Minute).Unix()})), auth.ReasonExpired)
}

func TestVerifier_RS256(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub := pemOf(t, &key.PublicKey)
	v := mustVerifier(t, auth.Config{PublicKeyPEM: pub})

	t.Run("OK", func(t *testing.T) {
		c, err := v.Verify(sign(t, jwt.SigningMethodRS256, key, valid(nil)))
		if err != nil {
			t.Fatal(err)
		} else if got, want := c.Subject, "user-1"; got != want {
			t.Fatalf("Subject=%q, want %q", got, want)
		}
	})
	t.Run("PKCS1Block", func(t *testing.T) {
		p := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})
		if _, err := mustVerifier(t, auth.Config{PublicKeyPEM: p}).Verify(sign(t, jwt.SigningMethodRS256, key, valid(nil))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("WrongKey", func(t *testing.T) {
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		wantReason(t, v, sign(t, jwt.SigningMethodRS256, other, valid(nil)), auth.ReasonBadSignature)
	})
	t.Run("AlgConfusion", func(t *testing.T) {
		// The classic attack: HS256 keyed with the public key's PEM bytes.
		wantReason(t, v, sign(t, jwt.SigningMethodHS256, pub, valid(nil)), auth.ReasonAlgNotAllowed)
	})
	t.Run("ErrShortKey", func(t *testing.T) {
		short, _ := rsa.GenerateKey(rand.Reader, 1024)
		if _, err := auth.NewVerifier(auth.Config{PublicKeyPEM: pemOf(t, &short.PublicKey)}); err == nil {
			t.Fatal("expected error for a 1024-bit key")
		}
	})
}

func TestVerifier_ES256(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	v := mustVerifier(t, auth.Config{PublicKeyPEM: pemOf(t, &key.PublicKey)})

	t.Run("OK", func(t *testing.T) {
		c, err := v.Verify(sign(t, jwt.SigningMethodES256, key, valid(nil)))
		if err != nil {
			t.Fatal(err)
		} else if got, want := c.Subject, "user-1"; got != want {
			t.Fatalf("Subject=%q, want %q", got, want)
		}
	})
	t.Run("WrongKey", func(t *testing.T) {
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		wantReason(t, v, sign(t, jwt.SigningMethodES256, other, valid(nil)), auth.ReasonBadSignature)
	})
	t.Run("OtherCurveAlg", func(t *testing.T) {
		other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		wantReason(t, v, sign(t, jwt.SigningMethodES384, other, valid(nil)), auth.ReasonAlgNotAllowed)
	})
}

func TestVerifier_Cache(t *testing.T) {
	clk := &clock{t0}
	v := mustVerifier(t, auth.Config{HS256Secret: secret, Now: clk.Now, CacheSize: 64})
	tok := sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"exp": t0.Add(time.Minute).Unix()}))

	for i := 0; i < 2; i++ { // miss, then hit
		c, err := v.Verify(tok)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		} else if got, want := c.Subject, "user-1"; got != want {
			t.Fatalf("call %d: Subject=%q, want %q", i, got, want)
		}
	}
	t.Run("TamperedNotServedFromCache", func(t *testing.T) {
		bad := append([]byte(nil), tok...)
		i := len(bad) - 10
		if bad[i] == 'A' {
			bad[i] = 'B'
		} else {
			bad[i] = 'A'
		}
		wantReason(t, v, bad, auth.ReasonBadSignature)
		// Non-canonical base64 (the unused low bits of the last character)
		// would decode to the same signature: strict decoding refuses it.
		bad = append([]byte(nil), tok...)
		bad[len(bad)-1] ^= 1
		wantReason(t, v, bad, auth.ReasonMalformed)
	})
	t.Run("ExpiryRespected", func(t *testing.T) {
		clk.t = t0.Add(time.Minute)
		wantReason(t, v, tok, auth.ReasonExpired)
	})
	t.Run("Bounded", func(t *testing.T) {
		clk.t = t0
		for i := 0; i < 500; i++ {
			tk := sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"sub": "u" + string(rune('a'+i%26)) + strings.Repeat("x", i)}))
			if _, err := v.Verify(tk); err != nil {
				t.Fatal(err)
			}
		}
		if got := auth.CacheLen(v); got > 64 {
			t.Fatalf("cache holds %d entries, want at most 64", got)
		}
	})
}

func TestReason(t *testing.T) {
	if got := auth.Reason(nil); got != "" {
		t.Fatalf("Reason(nil)=%q", got)
	}
	if got := auth.Reason(assign.Errorf(assign.EINVALID, "x")); got != "" {
		t.Fatalf("Reason(other)=%q", got)
	}
}

func TestSignHS256(t *testing.T) {
	v := mustVerifier(t, auth.Config{HS256Secret: secret, Issuer: "dev", Now: time.Now})
	tok, err := auth.SignHS256(secret, "user-42", time.Hour, map[string]any{"iss": "dev", "first_order": true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify([]byte(tok))
	if err != nil {
		t.Fatal(err)
	} else if got, want := c.Subject, "user-42"; got != want {
		t.Fatalf("Subject=%q, want %q", got, want)
	} else if got, want := c.Values["first_order"], any(true); got != want {
		t.Fatalf("first_order=%v, want %v", got, want)
	}
	if _, err := auth.SignHS256(nil, "u", time.Hour, nil); err == nil {
		t.Fatal("expected error for empty secret")
	}
}

// TestVerify_Crit checks RFC 7515 section 4.1.11: a token whose crit header
// names extensions is refused, since this verifier understands none, however
// well signed, and even after the same key's plain tokens warmed the fast path.
func TestVerify_Crit(t *testing.T) {
	v := mustVerifier(t, auth.Config{HS256Secret: secret, CacheSize: -1})
	if _, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, valid(nil))); err != nil {
		t.Fatal(err)
	}
	for name, crit := range map[string]any{
		"Unknown":   []string{"exp-ext"},
		"Empty":     []string{},
		"NotAList":  "b64",
		"KnownName": []string{"b64"}, // RFC 7797: not implemented here either
	} {
		t.Run(name, func(t *testing.T) {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, valid(nil))
			tok.Header["crit"] = crit
			tok.Header["exp-ext"] = true
			s, err := tok.SignedString(secret)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second time too: a refused header is never remembered
				wantReason(t, v, []byte(s), auth.ReasonCritical)
			}
		})
	}
}

// TestVerifier_CachedNoAlloc checks that a returning HS256 token, whether
// the library or the fast path verified it first, costs no allocation, and
// that the token the cache compared was the token verified.
func TestVerifier_CachedNoAlloc(t *testing.T) {
	v := mustVerifier(t, auth.Config{HS256Secret: secret, Now: (&clock{t0}).Now})
	first := sign(t, jwt.SigningMethodHS256, secret, valid(nil)) // by the library
	second := sign(t, jwt.SigningMethodHS256, secret, valid(jwt.MapClaims{"x": 1}))
	for _, tok := range [][]byte{first, second} {
		want, err := v.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(1000, func() { v.Verify(tok) }); n != 0 {
			t.Fatalf("%v allocations per cached verification, want 0", n)
		}
		if got, err := v.Verify(tok); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("cached Verify = %v, %v; want %v", got, err, want)
		}
		forged := bytes.Clone(tok)
		forged[len(forged)-2] ^= 1
		if _, err := v.Verify(forged); auth.Reason(err) != auth.ReasonBadSignature && auth.Reason(err) != auth.ReasonMalformed {
			t.Fatalf("a token one bit off a cached one: %v", err)
		}
	}
	if auth.FastHits(v) != 1 {
		t.Fatalf("FastHits = %d, want 1 (the second token)", auth.FastHits(v))
	}
}
