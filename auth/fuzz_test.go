package auth_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/assign-dev/assign/auth"
)

// Fuzz targets of the token verifier (issue 10): whatever the token, Verify
// never panics, names a reason for every refusal, and accepts only a token
// signed by a configured key (checked here with crypto/hmac and
// crypto/ecdsa, not the JWT library), unexpired, with a subject. make fuzz
// runs each for a few seconds.

var (
	fuzzSecret = []byte("fuzz-hs256-secret-0123456789abcdef-0123")
	fuzzNow    = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
)

// fuzzVerifier accepts HS256 with fuzzSecret and ES256 with a fresh key,
// at the fixed time fuzzNow; it keeps its cache and fast path across inputs,
// as a server does.
func fuzzVerifier(f *testing.F) (*auth.Verifier, *ecdsa.PrivateKey, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	v, err := auth.NewVerifier(auth.Config{HS256Secret: fuzzSecret, PublicKeyPEM: pubPEM, Now: func() time.Time { return fuzzNow }})
	if err != nil {
		f.Fatal(err)
	}
	return v, key, pubPEM
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func hs256(input string, secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkAccepted fails unless an accepted token is signed by one of the
// verifier's keys under the alg its header names, and its claims are those
// returned, unexpired, with a subject.
func checkAccepted(t *testing.T, token []byte, c auth.Claims, pub *ecdsa.PublicKey) {
	t.Helper()
	parts := bytes.Split(token, []byte("."))
	if len(parts) != 3 {
		t.Fatalf("accepted %q: not three parts", token)
	}
	dec := base64.RawURLEncoding.Strict()
	hdrJSON, err1 := dec.DecodeString(string(parts[0]))
	payload, err2 := dec.DecodeString(string(parts[1]))
	sig, err3 := dec.DecodeString(string(parts[2]))
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatalf("accepted %q: not strict base64url (%v, %v, %v)", token, err1, err2, err3)
	}
	var hdr map[string]any
	if err := json.Unmarshal(hdrJSON, &hdr); err != nil {
		t.Fatalf("accepted %q: header %q is not a JSON object", token, hdrJSON)
	}
	input := token[:len(parts[0])+1+len(parts[1])]
	switch alg, _ := hdr["alg"].(string); alg {
	case "HS256":
		m := hmac.New(sha256.New, fuzzSecret)
		m.Write(input)
		if !hmac.Equal(m.Sum(nil), sig) {
			t.Fatalf("accepted %q: not an HMAC-SHA256 of the secret", token)
		}
	case "ES256":
		sum := sha256.Sum256(input)
		if len(sig) != 64 || !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			t.Fatalf("accepted %q: not an ES256 signature of the key", token)
		}
	default:
		t.Fatalf("accepted %q with alg %q", token, hdr["alg"])
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("accepted %q: payload %q is not a JSON object", token, payload)
	}
	exp, ok := claims["exp"].(float64)
	if !ok || math.Floor(exp) <= float64(fuzzNow.Unix()) {
		t.Fatalf("accepted %q: exp %v is not after now (%d)", token, claims["exp"], fuzzNow.Unix())
	}
	if nbf, present := claims["nbf"]; present {
		if n, ok := nbf.(float64); !ok || math.Floor(n) > float64(fuzzNow.Unix()) {
			t.Fatalf("accepted %q: nbf %v is after now (%d)", token, nbf, fuzzNow.Unix())
		}
	}
	if sub, _ := claims["sub"].(string); sub == "" || sub != c.Subject {
		t.Fatalf("accepted %q: subject %q, claims say %v", token, c.Subject, claims["sub"])
	}
}

// verifyTwice verifies token twice (the second answer may come from the cache
// or the fast path, and must be the same) and checks what is accepted.
func verifyTwice(t *testing.T, v *auth.Verifier, token []byte, pub *ecdsa.PublicKey) {
	t.Helper()
	var accepted [2]bool
	for i := range accepted {
		c, err := v.Verify(token)
		if err != nil {
			if auth.Reason(err) == "" {
				t.Fatalf("Verify(%q) = %v without a reason", token, err)
			}
			continue
		}
		accepted[i] = true
		checkAccepted(t, token, c, pub)
	}
	if accepted[0] != accepted[1] {
		t.Fatalf("Verify(%q): accepted %v then %v", token, accepted[0], accepted[1])
	}
}

// FuzzVerify feeds any bytes, from seeds of valid and forged tokens.
func FuzzVerify(f *testing.F) {
	v, key, pubPEM := fuzzVerifier(f)
	exp := fuzzNow.Add(time.Hour).Unix()
	sign := func(m jwt.SigningMethod, k any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, claims).SignedString(k)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	good := jwt.MapClaims{"sub": "user-1", "exp": exp, "first_order": true}
	hs := sign(jwt.SigningMethodHS256, fuzzSecret, good)
	es := sign(jwt.SigningMethodES256, key, good)
	payload := b64(`{"sub":"user-1","exp":` + big.NewInt(exp).String() + `}`)
	for _, s := range []string{
		hs, es, hs + "x", es[:len(es)-1],
		sign(jwt.SigningMethodHS256, fuzzSecret, jwt.MapClaims{"sub": "nul\u0000user", "exp": exp}),
		sign(jwt.SigningMethodHS256, fuzzSecret, jwt.MapClaims{"sub": "user-1", "exp": fuzzNow.Add(-time.Second).Unix()}),
		sign(jwt.SigningMethodHS256, fuzzSecret, jwt.MapClaims{"sub": "user-1"}),
		sign(jwt.SigningMethodHS256, fuzzSecret, jwt.MapClaims{"exp": exp}),
		sign(jwt.SigningMethodHS256, fuzzSecret, jwt.MapClaims{"sub": "user-1", "exp": exp, "nbf": exp}),
		sign(jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef-0123"), good),
		sign(jwt.SigningMethodHS384, fuzzSecret, good),
		sign(jwt.SigningMethodHS256, pubPEM, good), // algorithm confusion: the public key as the HMAC secret
		b64(`{"alg":"none","typ":"JWT"}`) + "." + payload + ".",
		b64(`{"alg":"HS256","crit":["exp"]}`) + "." + payload + "." + hs256(b64(`{"alg":"HS256","crit":["exp"]}`)+"."+payload, fuzzSecret),
		b64(`{"alg":"HS256","alg":"none"}`) + "." + payload + ".",
		b64(`{"alg":"ES256"}`) + "." + payload + "." + hs256(b64(`{"alg":"ES256"}`)+"."+payload, fuzzSecret),
		"", ".", "..", "a.b.c", "Bearer " + hs,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, token []byte) {
		verifyTwice(t, v, token, &key.PublicKey)
	})
}

// FuzzVerifySigned signs any header and payload with the HS256 secret, so
// that the claim checks behind the signature (the library's and the fast
// path's) are explored, not only the signature check.
func FuzzVerifySigned(f *testing.F) {
	v, key, _ := fuzzVerifier(f)
	exp := big.NewInt(fuzzNow.Add(time.Hour).Unix()).String()
	for _, c := range [][2]string{
		{`{"alg":"HS256","typ":"JWT"}`, `{"sub":"user-1","exp":` + exp + `}`},
		{`{"alg":"HS256","typ":"JWT"}`, `{"sub":"user-1","exp":` + exp + `.9,"nbf":1,"aud":["x"],"iss":"y"}`},
		{`{"alg":"HS256"}`, `{"sub":"","exp":` + exp + `}`},
		{`{"alg":"HS256"}`, `{"sub":1,"exp":"` + exp + `"}`},
		{`{"alg":"HS256"}`, `{"sub":"u","exp":1e309}`},
		{`{"alg":"HS256"}`, `{"sub":"u","exp":-1}`},
		{`{"alg":"HS256"}`, `{"sub":"u","exp":` + exp + `,"nbf":"soon"}`},
		{`{"alg":"HS256"}`, `{"sub":"u","exp":` + exp + `,"sub":"v"}`},
		{`{"alg":"none"}`, `{"sub":"u","exp":` + exp + `}`},
		{`{"alg":"HS256","crit":[]}`, `{"sub":"u","exp":` + exp + `}`},
		{`{"alg":"HS256"}`, `[]`},
		{`{"alg":"HS256"}`, `null`},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, header, payload string) {
		input := b64(header) + "." + b64(payload)
		verifyTwice(t, v, []byte(input+"."+hs256(input, fuzzSecret)), &key.PublicKey)
	})
}
