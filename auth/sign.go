package auth

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SignHS256 returns an HS256 token for subject, valid from now for ttl, with
// the extra claims added (they may set iss, aud or eligibility claims, and
// may override iat and exp). It is meant for the embedded dev mode and tests;
// production tokens come from the identity provider.
func SignHS256(secret []byte, subject string, ttl time.Duration, extra map[string]any) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("auth: empty HS256 secret")
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"sub": subject,
		"iat": now.Unix(),
		"exp": now.Add(ttl).Unix(),
	}
	for k, v := range extra {
		claims[k] = v
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}
