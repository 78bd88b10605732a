package http_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	assignhttp "github.com/assign-dev/assign/http"
	"github.com/assign-dev/assign/internal/testenv"
)

// Issue 10, item 1: one NUL byte in a token's sub or an eligibility value
// stopped the warehouse for everyone. Every string that reaches Redis or the
// warehouse must be text (assign.ValidateText), else 400 naming the field,
// and nothing is written. These run on the real Redis.

// openRealServer opens a server on the real Redis; configure may change it.
func openRealServer(t *testing.T, configure func(*assignhttp.Server)) (*TestServer, *redis.Client) {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t), ContextTimeoutEnabled: true})
	ts := mustOpenServerOn(t, client, configure)
	return ts, client
}

// snapshot returns every key of the test's namespace with its serialized
// value (DUMP), to tell whether a request wrote anything.
func snapshot(t *testing.T, c *redis.Client, ns string) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := c.Keys(ctx, ns+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		// A hash by its content: DUMP writes a hashtable-encoded one in
		// its dict order, which reads may change (incremental rehashing).
		if typ, err := c.Type(ctx, k).Result(); err != nil {
			t.Fatal(err)
		} else if typ == "hash" {
			h, err := c.HGetAll(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			fields := slices.Sorted(maps.Keys(h))
			for i, f := range fields {
				fields[i] = fmt.Sprintf("%q=%q", f, h[f])
			}
			m[k] = "hash " + strings.Join(fields, ",")
			continue
		}
		if m[k], err = c.Dump(ctx, k).Result(); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// mustBeInvalid checks a 400 {"error": {"code": "invalid", "field": field}}.
func mustBeInvalid(t *testing.T, r Response, field string) {
	t.Helper()
	MustStatus(t, r, http.StatusBadRequest)
	if got := r.ErrorCode(t); got != "invalid" {
		t.Fatalf("code=%q, want invalid; body=%s", got, r.Body)
	} else if got := r.ErrorField(t); got != field {
		t.Fatalf("field=%q, want %q; body=%s", got, field, r.Body)
	}
}

func TestEnroll_SubjectNotText(t *testing.T) {
	ts, c := openRealServer(t, nil)
	id := ts.MustCreate(t, seedExperiment)
	for _, sub := range []string{"nul\u0000user", "esc\x1b[2Juser", "del\x7f", "line\u2028sep", "bidi\u202eresu", "c1\u009b31m"} {
		before := snapshot(t, c, ts.Namespace)
		r := ts.Do(t, "POST", "/api/experiment-enrollments", UserToken(t, sub, nil), enrollBody(id))
		mustBeInvalid(t, r, "sub")
		if after := snapshot(t, c, ts.Namespace); !maps.Equal(before, after) {
			t.Fatalf("sub %q: the refused enrollment wrote to Redis", sub)
		}
	}
	// Text of any script is a user id like another; so is a 36-byte id
	// with a fifth dash, which once panicked the UUID parser of the store.
	for _, sub := range []string{"ユーザー-🙂", "00000000-0000-0000-0000-0000-0000000"} {
		if got := ts.MustEnroll(t, id, sub, nil); got["enrolled"] != true {
			t.Fatalf("enroll %q = %v", sub, got)
		}
	}
}

func TestEnroll_EligibilityClaimNotText(t *testing.T) {
	ts, c := openRealServer(t, nil)
	id := ts.MustCreate(t, `{"maximum_sample_size": 10,
		"groups": [{"group_name": "a", "probability_of_falling_in": 1}],
		"eligibility": [{"claim": "country", "in": ["DE", "FR"]}]}`)
	before := snapshot(t, c, ts.Namespace)
	r := ts.Do(t, "POST", "/api/experiment-enrollments",
		UserToken(t, "user-1", map[string]any{"country": "D\u0000E"}), enrollBody(id))
	mustBeInvalid(t, r, "country")
	if after := snapshot(t, c, ts.Namespace); !maps.Equal(before, after) {
		t.Fatal("the refused enrollment wrote to Redis")
	}
	// A claim no rule reads is not looked at.
	if got := ts.MustEnroll(t, id, "user-1", map[string]any{"country": "DE", "name": "\x1b[2J"}); got["enrolled"] != true {
		t.Fatalf("enroll=%v", got)
	}
}

func TestCreateExperiment_TextFields(t *testing.T) {
	ts, c := openRealServer(t, func(s *assignhttp.Server) {
		s.Admins = maps.Clone(s.Admins)
		s.Admins["admin-token-with-a-bad-name-0123"] = "eve\x1b]0;pwned\x07"
	})
	const one = `"groups":[{"group_name":"a","probability_of_falling_in":1}]`
	for _, tt := range []struct{ name, token, body, field string }{
		{"GroupNameESC", adminToken, `{"maximum_sample_size":5,"groups":[{"group_name":"a","probability_of_falling_in":0.5},{"group_name":"b\u001b[31m","probability_of_falling_in":0.5}]}`, "groups[1].group_name"},
		{"GroupNameDEL", adminToken, `{"maximum_sample_size":5,"groups":[{"group_name":"a\u007f","probability_of_falling_in":1}]}`, "groups[0].group_name"},
		{"GroupNameLineSeparator", adminToken, `{"maximum_sample_size":5,"groups":[{"group_name":"a\u2028b","probability_of_falling_in":1}]}`, "groups[0].group_name"},
		{"GroupNameBidi", adminToken, `{"maximum_sample_size":5,"groups":[{"group_name":"\u202ea","probability_of_falling_in":1}]}`, "groups[0].group_name"},
		{"EqualsNUL", adminToken, `{"maximum_sample_size":5,` + one + `,"eligibility":[{"claim":"country","equals":"D\u0000E"}]}`, "eligibility[0].equals"},
		{"NotEqualsNUL", adminToken, `{"maximum_sample_size":5,` + one + `,"eligibility":[{"claim":"country","not_equals":"\u0000"}]}`, "eligibility[0].not_equals"},
		{"InNUL", adminToken, `{"maximum_sample_size":5,` + one + `,"eligibility":[{"claim":"tier","equals":1},{"claim":"country","in":["DE","\u0000"]}]}`, "eligibility[1].in[1]"},
		{"ClaimNUL", adminToken, `{"maximum_sample_size":5,` + one + `,"eligibility":[{"claim":"coun\u0000try","equals":"DE"}]}`, "eligibility[0].claim"},
		{"AdminName", "admin-token-with-a-bad-name-0123", `{"maximum_sample_size":5,` + one + `}`, "updated_by"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, c, ts.Namespace)
			mustBeInvalid(t, ts.Do(t, "POST", "/api/experiment-create", tt.token, tt.body), tt.field)
			if after := snapshot(t, c, ts.Namespace); !maps.Equal(before, after) {
				t.Fatal("the refused creation wrote to Redis")
			}
		})
	}
}

func TestUpdateExperiment_TextFields(t *testing.T) {
	ts, c := openRealServer(t, func(s *assignhttp.Server) {
		s.Admins = maps.Clone(s.Admins)
		s.Admins["admin-token-with-a-bad-name-0123"] = "eve\u2028"
	})
	id := ts.MustCreate(t, seedExperiment)
	for _, tt := range []struct{ name, token, body, field string }{
		{"GroupNameESC", adminToken, `{"groups":[{"group_name":"old_journey\u001b","probability_of_falling_in":0.5},{"group_name":"new_journey","probability_of_falling_in":0.5}]}`, "groups[0].group_name"},
		{"WinnerNUL", adminToken, `{"winner":"new_journey\u0000"}`, "winner"},
		{"AdminName", "admin-token-with-a-bad-name-0123", `{"status":"paused"}`, "updated_by"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, c, ts.Namespace)
			mustBeInvalid(t, ts.Do(t, "PATCH", "/api/experiments/"+id, tt.token, tt.body), tt.field)
			if after := snapshot(t, c, ts.Namespace); !maps.Equal(before, after) {
				t.Fatal("the refused update wrote to Redis")
			}
		})
	}
}
