package http_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/auth"
	assignhttp "github.com/assign-dev/assign/http"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

func enrollBody(id string) string { return `{"experiment_id":"` + id + `"}` }

func TestEnroll(t *testing.T) {
	ts := MustOpenServer(t, nil)
	id := ts.MustCreate(t, seedExperiment)

	t.Run("Sticky", func(t *testing.T) {
		first := ts.MustEnroll(t, id, "user-1", nil)
		if got, want := first["enrolled"], any(true); got != want {
			t.Fatalf("enrolled=%v, want %v", got, want)
		} else if g := first["group_name"]; g != "old_journey" && g != "new_journey" {
			t.Fatalf("group_name=%v", g)
		} else if got, want := first["experiment_id"], any(id); got != want {
			t.Fatalf("experiment_id=%v, want %v", got, want)
		}
		for i := 0; i < 3; i++ {
			again := ts.MustEnroll(t, id, "user-1", nil)
			if again["group_name"] != first["group_name"] {
				t.Fatalf("call %d: group_name=%v, want %v", i, again["group_name"], first["group_name"])
			}
		}
		// Counted once.
		stats := ts.Do(t, "GET", "/api/experiments/"+id, adminToken, "").JSON(t)["stats"].(map[string]any)
		if got, want := stats["enrolled"], any(1.0); got != want {
			t.Fatalf("stats.enrolled=%v, want %v", got, want)
		}
	})
	t.Run("ExactShape", func(t *testing.T) {
		r := ts.Do(t, "POST", "/api/experiment-enrollments", UserToken(t, "user-1", nil), enrollBody(id))
		g := r.JSON(t)["group_name"].(string)
		if got, want := string(r.Body), `{"experiment_id":"`+id+`","enrolled":true,"group_name":"`+g+`"}`; got != want {
			t.Fatalf("body=%s, want %s", got, want)
		}
	})
	t.Run("SameUserConcurrently", func(t *testing.T) {
		tok := UserToken(t, "user-concurrent", nil)
		var wg sync.WaitGroup
		groups := make([]string, 20)
		for i := range groups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := ts.Do(t, "POST", "/api/experiment-enrollments", tok, enrollBody(id))
				if r.Status == http.StatusOK {
					groups[i], _ = r.JSON(t)["group_name"].(string)
				}
			}()
		}
		wg.Wait()
		for i, g := range groups {
			if g == "" || g != groups[0] {
				t.Fatalf("call %d got group %q, call 0 got %q", i, g, groups[0])
			}
		}
	})
	t.Run("BodyVariants", func(t *testing.T) {
		want := ts.MustEnroll(t, id, "user-1", nil)["group_name"]
		tok := UserToken(t, "user-1", nil)
		for _, body := range []string{
			" {\n\t\"experiment_id\" : \"" + id + "\" }\r\n",
			`{"experiment_id":"` + strings.Replace(id, "-", `\u002d`, 1) + `"}`, // escapes: the slow path
		} {
			r := ts.Do(t, "POST", "/api/experiment-enrollments", tok, body)
			MustStatus(t, r, http.StatusOK)
			if got := r.JSON(t)["group_name"]; got != want {
				t.Fatalf("body %q: group_name=%v, want %v", body, got, want)
			}
		}
	})
	t.Run("NotSampled", func(t *testing.T) {
		nid := ts.MustCreate(t, `{"maximum_sample_size":10,"sampling_probability":1e-12,"groups":[{"group_name":"a","probability_of_falling_in":1}]}`)
		for i := 0; i < 2; i++ {
			got := ts.MustEnroll(t, nid, "user-1", nil)
			if got["enrolled"] != false || got["reason"] != "not_sampled" {
				t.Fatalf("call %d: %v, want not_sampled", i, got)
			} else if _, ok := got["group_name"]; ok {
				t.Fatalf("group_name present when not enrolled: %v", got)
			}
		}
	})
	t.Run("SampleFull", func(t *testing.T) {
		fid := ts.MustCreate(t, `{"maximum_sample_size":1,"groups":[{"group_name":"a","probability_of_falling_in":1}]}`)
		if got := ts.MustEnroll(t, fid, "first", nil); got["enrolled"] != true {
			t.Fatalf("first: %v", got)
		}
		if got := ts.MustEnroll(t, fid, "second", nil); got["enrolled"] != false || got["reason"] != "sample_full" {
			t.Fatalf("second: %v, want sample_full", got)
		}
		if got := ts.MustEnroll(t, fid, "first", nil); got["enrolled"] != true || got["group_name"] != "a" {
			t.Fatalf("first again: %v", got)
		}
	})
	t.Run("Eligibility", func(t *testing.T) {
		eid := ts.MustCreate(t, `{"maximum_sample_size":10,"groups":[{"group_name":"a","probability_of_falling_in":1}],
			"eligibility":[{"claim":"first_order","equals":true}]}`)
		if got := ts.MustEnroll(t, eid, "no-claim", nil); got["enrolled"] != false || got["reason"] != "not_eligible" {
			t.Fatalf("without claim: %v, want not_eligible", got)
		}
		if got := ts.MustEnroll(t, eid, "repeat", map[string]any{"first_order": false}); got["reason"] != "not_eligible" {
			t.Fatalf("first_order=false: %v, want not_eligible", got)
		}
		if got := ts.MustEnroll(t, eid, "new", map[string]any{"first_order": true}); got["enrolled"] != true {
			t.Fatalf("first_order=true: %v, want enrolled", got)
		}
	})
	t.Run("EscapedGroupNames", func(t *testing.T) {
		// U+2028 is refused at creation (assign.ValidateText); appendString
		// still escapes it (FuzzAppendString).
		name := `q"uote\ <b>&é 日本`
		gid := ts.MustCreate(t, `{"maximum_sample_size":10,"groups":[{"group_name":"q\"uote\\ <b>&é 日本","probability_of_falling_in":1}]}`)
		r := ts.Do(t, "POST", "/api/experiment-enrollments", UserToken(t, "u", nil), enrollBody(gid))
		MustStatus(t, r, http.StatusOK)
		if got := r.JSON(t)["group_name"]; got != name {
			t.Fatalf("group_name=%q, want %q (body %s)", got, name, r.Body)
		} else if strings.ContainsAny(string(r.Body), "<>&") {
			t.Fatalf("body %s holds HTML-unsafe characters", r.Body)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		r := ts.Do(t, "POST", "/api/experiment-enrollments", UserToken(t, "u", nil), enrollBody("no-such-experiment"))
		MustStatus(t, r, http.StatusNotFound)
		if got, want := r.ErrorCode(t), "not_found"; got != want {
			t.Fatalf("code=%q, want %q", got, want)
		}
	})
	t.Run("ErrBadBody", func(t *testing.T) {
		tok := UserToken(t, "u", nil)
		for _, tt := range []struct{ name, body, field string }{
			{"Malformed", `{"experiment_id":`, ""},
			{"NotJSON", `experiment_id=x`, ""},
			{"Missing", `{}`, "experiment_id"},
			{"Empty", `{"experiment_id":""}`, "experiment_id"},
			{"BadID", `{"experiment_id":"a b"}`, "experiment_id"},
			{"TooLongID", `{"experiment_id":"` + strings.Repeat("a", 65) + `"}`, "experiment_id"},
			{"WrongType", `{"experiment_id":42}`, "experiment_id"},
			{"UnknownField", `{"experiment_id":"` + id + `","user_id":"someone-else"}`, "user_id"},
			{"TrailingData", `{"experiment_id":"` + id + `"}x`, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := ts.Do(t, "POST", "/api/experiment-enrollments", tok, tt.body)
				MustStatus(t, r, http.StatusBadRequest)
				if got, want := r.ErrorCode(t), "invalid"; got != want {
					t.Fatalf("code=%q, want %q", got, want)
				} else if got := r.ErrorField(t); got != tt.field {
					t.Fatalf("field=%q, want %q; body=%s", got, tt.field, r.Body)
				}
			})
		}
	})
	t.Run("ErrUnsupportedMediaType", func(t *testing.T) {
		r := ts.Do(t, "POST", "/api/experiment-enrollments", UserToken(t, "u", nil), enrollBody(id), "text/plain")
		MustStatus(t, r, http.StatusUnsupportedMediaType)
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		body := `{"experiment_id":"` + id + `"}` + strings.Repeat(" ", assignhttp.DefaultMaxRequestBodySize)
		MustStatus(t, ts.Do(t, "POST", "/api/experiment-enrollments", UserToken(t, "u", nil), body), http.StatusRequestEntityTooLarge)
	})
}

func TestEnroll_Unauthorized(t *testing.T) {
	ts := MustOpenServer(t, nil)
	id := ts.MustCreate(t, seedExperiment)
	hs := func(key []byte, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "u", "exp": now.Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)

	for _, tt := range []struct{ name, header, reason string }{
		{"Missing", "", auth.ReasonMissing},
		{"NotBearer", "Basic dXNlcjpwYXNz", auth.ReasonMissing},
		{"Malformed", "Bearer not-a-token", auth.ReasonMalformed},
		{"WrongKey", "Bearer " + hs([]byte("some-other-secret-0123456789abcd"), jwt.MapClaims{"sub": "u", "exp": now.Add(time.Hour).Unix()}), auth.ReasonBadSignature},
		{"AlgNone", "Bearer " + none, auth.ReasonAlgNotAllowed},
		{"Expired", "Bearer " + hs(testSecret, jwt.MapClaims{"sub": "u", "exp": now.Add(-time.Minute).Unix()}), auth.ReasonExpired},
		{"NoExpiry", "Bearer " + hs(testSecret, jwt.MapClaims{"sub": "u"}), auth.ReasonMissingExpiry},
		{"MissingSub", "Bearer " + hs(testSecret, jwt.MapClaims{"exp": now.Add(time.Hour).Unix()}), auth.ReasonMissingSubject},
		{"NotYetValid", "Bearer " + hs(testSecret, jwt.MapClaims{"sub": "u", "nbf": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()}), auth.ReasonNotYetValid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", ts.URL()+"/api/experiment-enrollments", strings.NewReader(enrollBody(id)))
			req.Header.Set("Content-Type", "application/json")
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := ts.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got, want := resp.StatusCode, http.StatusUnauthorized; got != want {
				t.Fatalf("status=%d, want %d", got, want)
			}
			challenge := resp.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, "Bearer ") {
				t.Fatalf("WWW-Authenticate=%q", challenge)
			}
			// RFC 6750: no error code when no credentials were sent at all.
			if got, want := strings.Contains(challenge, `error="invalid_token"`), tt.reason != auth.ReasonMissing; got != want {
				t.Fatalf("WWW-Authenticate=%q for reason %s", challenge, tt.reason)
			}
		})
	}
}

func TestEnroll_IssuerAudience(t *testing.T) {
	ts := MustOpenServer(t, func(s *assignhttp.Server) {
		v, err := auth.NewVerifier(auth.Config{HS256Secret: testSecret, Issuer: "https://id.example", Audience: "assign"})
		if err != nil {
			t.Fatal(err)
		}
		s.Verifier = v
	})
	id := ts.MustCreate(t, seedExperiment)
	do := func(extra map[string]any) int {
		return ts.Do(t, "POST", "/api/experiment-enrollments", UserToken(t, "u", extra), enrollBody(id)).Status
	}
	if got := do(map[string]any{"iss": "https://id.example", "aud": "assign"}); got != http.StatusOK {
		t.Fatalf("good issuer and audience: status=%d", got)
	}
	for name, extra := range map[string]map[string]any{
		"WrongIssuer":   {"iss": "https://evil.example", "aud": "assign"},
		"MissingIssuer": {"aud": "assign"},
		"WrongAudience": {"iss": "https://id.example", "aud": "other"},
	} {
		if got := do(extra); got != http.StatusUnauthorized {
			t.Fatalf("%s: status=%d, want 401", name, got)
		}
	}
}

// TestEnroll_PublicKeys enrolls with RS256 and ES256 tokens, and checks that
// an HS256 token keyed with the public key is refused (algorithm confusion).
func TestEnroll_PublicKeys(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		method jwt.SigningMethod
		priv   any
		pub    any
	}{
		{"RS256", jwt.SigningMethodRS256, rsaKey, &rsaKey.PublicKey},
		{"ES256", jwt.SigningMethodES256, ecKey, &ecKey.PublicKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			der, _ := x509.MarshalPKIXPublicKey(tt.pub)
			pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			ts := MustOpenServer(t, func(s *assignhttp.Server) {
				v, err := auth.NewVerifier(auth.Config{PublicKeyPEM: pubPEM})
				if err != nil {
					t.Fatal(err)
				}
				s.Verifier = v
			})
			id := ts.MustCreate(t, seedExperiment)
			claims := jwt.MapClaims{"sub": "user-pk", "exp": time.Now().Add(time.Hour).Unix()}
			tok, err := jwt.NewWithClaims(tt.method, claims).SignedString(tt.priv)
			if err != nil {
				t.Fatal(err)
			}
			r := ts.Do(t, "POST", "/api/experiment-enrollments", tok, enrollBody(id))
			MustStatus(t, r, http.StatusOK)
			if got, want := r.JSON(t)["enrolled"], any(true); got != want {
				t.Fatalf("enrolled=%v, want %v", got, want)
			}
			confused, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(pubPEM)
			MustStatus(t, ts.Do(t, "POST", "/api/experiment-enrollments", confused, enrollBody(id)), http.StatusUnauthorized)
			// The HS256 test secret is not configured here either.
			MustStatus(t, ts.Do(t, "POST", "/api/experiment-enrollments", UserToken(t, "u", nil), enrollBody(id)), http.StatusUnauthorized)
		})
	}
}

func mustUnavailable(t *testing.T, r Response) {
	t.Helper()
	MustStatus(t, r, http.StatusServiceUnavailable)
	e, _ := r.JSON(t)["error"].(map[string]any)
	if got, want := e["code"], any("unavailable"); got != want {
		t.Fatalf("code=%v, want %v", got, want)
	} else if got, want := e["fallback"], any(assignhttp.FallbackDefaultExperience); got != want {
		t.Fatalf("fallback=%v, want %v", got, want)
	} else if msg, _ := e["message"].(string); msg == "" {
		t.Fatal("no message")
	}
}

// TestEnroll_RedisDown stops Redis under a running server: enrollments get
// 503 with a fallback the client can act on.
func TestEnroll_RedisDown(t *testing.T) {
	ts := MustOpenServer(t, nil)
	id := ts.MustCreate(t, seedExperiment)
	ts.MustEnroll(t, id, "user-1", nil)
	ts.Redis.Close()
	mustUnavailable(t, ts.Do(t, "POST", "/api/experiment-enrollments", UserToken(t, "user-1", nil), enrollBody(id)))
	mustUnavailable(t, ts.Do(t, "POST", "/api/experiment-enrollments", UserToken(t, "user-2", nil), enrollBody(id)))
}

// TestEnroll_Deadline points the store at a server that accepts connections
// and never answers: the enrollment must give up at EnrollTimeout with 503
// rather than wait for the client's own timeouts.
func TestEnroll_Deadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	var mu sync.Mutex
	var accepted []net.Conn
	conns.Add(1)
	go func() {
		defer conns.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, c) // hold it open, say nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		conns.Wait()
		mu.Lock()
		for _, c := range accepted {
			c.Close()
		}
		mu.Unlock()
	})

	client := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), ContextTimeoutEnabled: true, MaxRetries: -1,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second})
	t.Cleanup(func() { client.Close() })
	store := redisstore.New(client, redisstore.Keys{Namespace: testenv.Namespace()})
	v, _ := auth.NewVerifier(auth.Config{HS256Secret: testSecret})
	s := assignhttp.NewServer()
	s.Addr = "127.0.0.1:0"
	s.Experiments, s.Enrollments, s.Verifier = store, store, v
	s.EnrollTimeout = 20 * time.Millisecond
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := &TestServer{Server: s, Store: store, Client: &http.Client{Timeout: 10 * time.Second}}

	// The HTTP client's 10 s timeout and the Redis client's 30 s read timeout
	// would both fail this test if the 20 ms deadline were not honoured.
	for i := 0; i < 3; i++ {
		mustUnavailable(t, ts.Do(t, "POST", "/api/experiment-enrollments", UserToken(t, fmt.Sprint("u", i), nil), enrollBody("exp")))
	}
}
