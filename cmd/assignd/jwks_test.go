package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/assign-dev/assign/auth/jwkstest"
)

const jwksAdmin = "ops:0123456789abcdef"

// startWithJWKS runs assignd (embedded Redis) configured by args and env the
// way an operator does.
func startWithJWKS(t *testing.T, args []string, env map[string]string) (*Main, error) {
	t.Helper()
	m := NewMain()
	m.Stdout = new(strings.Builder)
	m.Logger = discardLogger()
	args = append([]string{"-addr", "127.0.0.1:0", "-exporter=false", "-admin-token", jwksAdmin}, args...)
	if err := m.Config.ParseFlags(args, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	err := m.Run(context.Background())
	t.Cleanup(func() { m.Close() })
	return m, err
}

type readyzBody struct {
	Status  string `json:"status"`
	Error   string `json:"error"`
	Details struct {
		JWKS []struct {
			Source, Status string
			Keys           int
			LastSuccess    string `json:"last_success"`
			LastError      string `json:"last_error"`
			Failures       uint64
		} `json:"jwks"`
	} `json:"details"`
}

func getReadyz(t *testing.T, url string) (int, readyzBody) {
	t.Helper()
	resp, err := httpClient.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b readyzBody
	body := readAll(resp)
	mustJSON(t, body, &b)
	return resp.StatusCode, b
}

// TestMain_JWKS runs assignd with two identity providers' JWKS endpoints
// (comma-separated in ASSIGN_JWT_JWKS_URL, as a deployment sets them) and
// the issuer and audience checks, and enrolls users with an RS256 and an
// ES256 token. Then one endpoint goes down: its cached key still verifies,
// /metrics counts the failure and /readyz says so while staying ready.
func TestMain_JWKS(t *testing.T) {
	rs, es := jwkstest.RSA(t, "auth0-key-1", 0), jwkstest.EC(t, "cognito-key-1")
	idp1, idp2 := jwkstest.NewServer(t, rs), jwkstest.NewServer(t, es)
	m, err := startWithJWKS(t, []string{"-jwt-issuer", "https://tenant.example/", "-jwt-audience", "assign"},
		map[string]string{"ASSIGN_JWT_JWKS_URL": idp1.URL + ", " + idp2.URL})
	if err != nil {
		t.Fatal(err)
	}
	if out := m.Stdout.(*strings.Builder).String(); strings.Contains(out, "JWT_SECRET") {
		t.Fatalf("a secret was generated beside the JWKS:\n%s", out)
	}
	url := m.Server.URL()
	admin := strings.TrimPrefix(jwksAdmin, "ops:")
	create := `{"experiment_id":"idp","maximum_sample_size":100,"sampling_probability":1,
		"groups":[{"group_name":"a","probability_of_falling_in":0.5},{"group_name":"b","probability_of_falling_in":0.5}],
		"eligibility":[{"claim":"first_order","equals":true}]}`
	if code, body := post(t, url+"/api/experiment-create", admin, create); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	claims := func(sub string) jwt.MapClaims {
		return jwt.MapClaims{"sub": sub, "iss": "https://tenant.example/", "aud": []string{"assign", "other-api"},
			"exp": time.Now().Add(time.Hour).Unix(), "first_order": true}
	}
	enroll := `{"experiment_id":"idp"}`
	for _, k := range []*jwkstest.Key{rs, es} {
		code, body := post(t, url+"/api/experiment-enrollments", k.Sign(t, claims("user-"+k.KID)), enroll)
		if code != 200 || !strings.Contains(body, `"enrolled":true`) {
			t.Fatalf("%s token: %d %s", k.Method.Alg(), code, body)
		}
	}
	// Wrong issuer, a kid of no provider, and the algorithm confusion are 401.
	bad := claims("user-x")
	bad["iss"] = "https://evil.example/"
	der, _ := x509.MarshalPKIXPublicKey(rs.Private.Public())
	confused := jwt.NewWithClaims(jwt.SigningMethodHS256, claims("user-x"))
	confused.Header["kid"] = rs.KID
	confusedTok, _ := confused.SignedString(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	for name, tok := range map[string]string{
		"WrongIssuer":  rs.Sign(t, bad),
		"AlgConfusion": confusedTok,
	} {
		if code, body := post(t, url+"/api/experiment-enrollments", tok, enroll); code != 401 {
			t.Fatalf("%s: %d %s, want 401", name, code, body)
		}
	}

	code, rz := getReadyz(t, url)
	if code != 200 || len(rz.Details.JWKS) != 2 || rz.Details.JWKS[0].Status != "ok" || rz.Details.JWKS[0].Keys != 1 || rz.Details.JWKS[0].LastSuccess == "" {
		t.Fatalf("readyz %d %+v", code, rz)
	}

	// The first provider goes down. A token with an unknown kid makes
	// assignd fetch again (and the fetch fails); the cached key verifies.
	idp1.Fail(http.StatusServiceUnavailable)
	hits := idp1.Hits()
	forged := &jwkstest.Key{KID: "rotated-away", Private: rs.Private, Method: rs.Method}
	if code, body := post(t, url+"/api/experiment-enrollments", forged.Sign(t, claims("user-y")), enroll); code != 401 {
		t.Fatalf("unknown kid: %d %s", code, body)
	}
	if idp1.Hits() != hits+1 {
		t.Fatalf("the unknown kid made %d fetches, want 1", idp1.Hits()-hits)
	}
	if code, body := post(t, url+"/api/experiment-enrollments", rs.Sign(t, claims("user-while-down")), enroll); code != 200 {
		t.Fatalf("cached key while the endpoint is down: %d %s", code, body)
	}
	code, rz = getReadyz(t, url)
	if code != 200 || rz.Status != "ready" || rz.Details.JWKS[0].Status != "failing" || rz.Details.JWKS[0].LastError != "HTTP status 503" ||
		rz.Details.JWKS[0].Keys != 1 || rz.Details.JWKS[0].Failures != 1 || rz.Details.JWKS[1].Status != "ok" {
		t.Fatalf("readyz while an endpoint is down: %d %+v", code, rz)
	}
	exposition, err := httpGet(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`assign_jwks_refresh_failures_total{source="` + idp1.URL + `"} 1`,
		`assign_jwks_refresh_failures_total{source="` + idp2.URL + `"} 0`,
		`assign_jwks_keys{source="` + idp1.URL + `"} 1`,
		`assign_jwks_unknown_kid_refreshes_total 1`,
		`assign_jwks_last_success_timestamp_seconds{source="` + idp1.URL + `"} `,
		`assign_auth_token_rejections_total{reason="unknown_key"} 1`,
	} {
		if !strings.Contains(exposition, want) {
			t.Fatalf("metrics lack %q:\n%s", want, grepLines(exposition, "assign_jwks"))
		}
	}
}

// TestMain_JWKSNeverLoaded: an endpoint that never answered leaves assignd
// running but unready, /readyz naming the source and the cause; a JWKS file
// that cannot be read stops the start.
func TestMain_JWKSNeverLoaded(t *testing.T) {
	idp := jwkstest.NewServer(t, jwkstest.EC(t, "k"))
	idp.Fail(http.StatusInternalServerError)
	m, err := startWithJWKS(t, []string{"-jwt-jwks-url", idp.URL}, nil)
	if err != nil {
		t.Fatalf("an endpoint down at start stopped the start: %v", err)
	}
	code, rz := getReadyz(t, m.Server.URL())
	if code != 503 || !strings.Contains(rz.Error, idp.URL) || !strings.Contains(rz.Error, "HTTP status 500") ||
		len(rz.Details.JWKS) != 1 || rz.Details.JWKS[0].Status != "not_loaded" {
		t.Fatalf("readyz %d %+v, want 503 naming the source", code, rz)
	}

	if _, err := startWithJWKS(t, []string{"-jwt-jwks-file", filepath.Join(t.TempDir(), "missing.json")}, nil); err == nil ||
		!strings.Contains(err.Error(), "file unreadable") {
		t.Fatalf("missing JWKS file: err=%v", err)
	}
}

// TestConfig_JWKSFlags: -jwt-jwks-url repeats, takes commas, and replaces
// the environment's list; a JWKS alone is a JWT key for a real Redis.
func TestConfig_JWKSFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"Repeated", []string{"-jwt-jwks-url", "https://a/jwks", "-jwt-jwks-url", "https://b/jwks,https://c/jwks"}, nil,
			[]string{"https://a/jwks", "https://b/jwks", "https://c/jwks"}},
		{"FromEnv", nil, map[string]string{"ASSIGN_JWT_JWKS_URL": "https://a/jwks, https://b/jwks"}, []string{"https://a/jwks", "https://b/jwks"}},
		{"FlagWins", []string{"-jwt-jwks-url", "https://c/jwks"}, map[string]string{"ASSIGN_JWT_JWKS_URL": "https://a/jwks"}, []string{"https://c/jwks"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			if err := c.ParseFlags(tc.args, func(k string) string { return tc.env[k] }); err != nil {
				t.Fatal(err)
			} else if !slices.Equal(c.JWTJWKSURLs, tc.want) {
				t.Fatalf("JWTJWKSURLs=%q, want %q", c.JWTJWKSURLs, tc.want)
			}
		})
	}
	c := DefaultConfig()
	err := c.ParseFlags([]string{"-redis-url", "redis://127.0.0.1:6379", "-admin-token", "0123456789abcdef", "-jwt-jwks-file", "/etc/assign/jwks.json"}, func(string) string { return "" })
	if err != nil || !slices.Equal(c.JWTJWKSFiles, []string{"/etc/assign/jwks.json"}) {
		t.Fatalf("a JWKS file as the only JWT key: err=%v files=%q", err, c.JWTJWKSFiles)
	}
	c = DefaultConfig()
	if err := c.ParseFlags([]string{"-jwt-jwks-url", " , "}, func(string) string { return "" }); err == nil {
		t.Fatal("an empty -jwt-jwks-url was accepted")
	}
}
