package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/auth/jwkstest"
	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkVerify measures token verification on the enrollment hot path:
// each algorithm without the cache (every token new), and HS256 with the
// cache (a client reusing its token).
func BenchmarkVerify(b *testing.B) {
	claims := jwt.MapClaims{"sub": "f380739f-62f3-4316-8acf-93ed5744cb9e", "exp": time.Now().Add(time.Hour).Unix(), "first_order": true}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	run := func(b *testing.B, cfg auth.Config, tok []byte) {
		cfg.Now = time.Now
		v, err := auth.NewVerifier(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := v.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("HS256", func(b *testing.B) {
		run(b, auth.Config{HS256Secret: secret, CacheSize: -1}, sign(b, jwt.SigningMethodHS256, secret, claims))
	})
	b.Run("HS256Cached", func(b *testing.B) {
		run(b, auth.Config{HS256Secret: secret}, sign(b, jwt.SigningMethodHS256, secret, claims))
	})
	b.Run("RS256", func(b *testing.B) {
		run(b, auth.Config{PublicKeyPEM: pemOf(b, &rsaKey.PublicKey), CacheSize: -1}, sign(b, jwt.SigningMethodRS256, rsaKey, claims))
	})
	b.Run("ES256", func(b *testing.B) {
		run(b, auth.Config{PublicKeyPEM: pemOf(b, &ecKey.PublicKey), CacheSize: -1}, sign(b, jwt.SigningMethodES256, ecKey, claims))
	})
	b.Run("ES256Cached", func(b *testing.B) {
		run(b, auth.Config{PublicKeyPEM: pemOf(b, &ecKey.PublicKey)}, sign(b, jwt.SigningMethodES256, ecKey, claims))
	})
	// A JWKS served over HTTP: the key chosen by kid (no fetch once loaded).
	jwksKey := &jwkstest.Key{KID: "bench", Private: rsaKey, Method: jwt.SigningMethodRS256}
	srv := jwkstest.NewServer(b, jwksKey)
	jwks, err := auth.NewJWKS(auth.JWKSConfig{URLs: []string{srv.URL}})
	if err != nil {
		b.Fatal(err)
	}
	defer jwks.Close()
	if err := jwks.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Run("JWKSRS256", func(b *testing.B) {
		run(b, auth.Config{JWKS: jwks, CacheSize: -1}, []byte(jwksKey.Sign(b, claims)))
	})
	b.Run("JWKSRS256Cached", func(b *testing.B) {
		run(b, auth.Config{JWKS: jwks}, []byte(jwksKey.Sign(b, claims)))
	})
}
