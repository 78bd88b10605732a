package main

import (
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/auth"
)

func TestToken(t *testing.T) {
	const secret = "token-test-secret-0123456789abcdef"
	env := map[string]string{"ASSIGN_JWT_SECRET": secret}
	out := run(t, env, "", "token", "--claim", "first_order=true", "--claim", "country=FR", "--claim", "age=42", "--ttl", "1h", "user-1").mustOK(t).Stdout
	v, err := auth.NewVerifier(auth.Config{HS256Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify([]byte(strings.TrimSpace(out)))
	if err != nil {
		t.Fatalf("the printed token does not verify: %v (%q)", err, out)
	}
	if c.Subject != "user-1" || c.Values["first_order"] != true || c.Values["country"] != "FR" || c.Values["age"] != 42.0 {
		t.Fatalf("claims %+v", c)
	}
	if exp, _ := c.Values["exp"].(float64); time.Until(time.Unix(int64(exp), 0)) > time.Hour+time.Minute {
		t.Fatalf("exp %v: want within --ttl 1h", c.Values["exp"])
	}
	other, _ := auth.NewVerifier(auth.Config{HS256Secret: []byte("another-secret-0123456789abcdefgh")})
	if _, err := other.Verify([]byte(strings.TrimSpace(out))); err == nil {
		t.Fatal("a token of one secret verifies with another")
	}
	run(t, nil, "", "token", "user-1").mustCode(t, ExitUsage, "--jwt-secret")
	run(t, env, "", "token").mustCode(t, ExitUsage, "user id")
	run(t, env, "", "token", "--claim", "nothing", "u").mustCode(t, ExitUsage, "claim=value")
}
