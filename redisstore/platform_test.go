package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// The platform recorded with an enrollment: the token's claim, else the
// request's, else none; a bad one refused before anything is written;
// eligibility rules on the platform claim see either; in a layer too, and
// an override's event carries it.
func TestEnroll_Platform(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		plain := newExperiment("plat", 100, 1)
		plain.Overrides = map[string]string{"qa": "control"}
		mustCreate(t, s, plain)
		layered := newExperiment("plat-layer", 100, 1)
		layered.Layer = "plat-layer"
		mustCreate(t, s, layered)
		mobile := newExperiment("plat-ios", 100, 1)
		mobile.Eligibility = []assign.Rule{{Claim: assign.PlatformClaim, In: []any{"ios", "android"}}}
		mustCreate(t, s, mobile)

		enroll := func(id, user, platform string, claims map[string]any) (*assign.Enrollment, error) {
			return s.Enroll(ctx, assign.EnrollRequest{ExperimentID: id, UserID: user, Platform: platform, Claims: claims})
		}
		platforms := func(id, layer string) map[string]any {
			t.Helper()
			msgs, err := c.XRange(ctx, redisstore.EventsKey(s.Keys().Prefix(id, layer)), "-", "+").Result()
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]any{}
			for _, msg := range msgs {
				if msg.Values[redisstore.EventType] == redisstore.EventEnroll {
					p, ok := msg.Values[redisstore.EventPlatform]
					if !ok {
						p = nil
					}
					m[msg.Values[redisstore.EventUser].(string)] = p
				}
			}
			return m
		}
		for _, tc := range []struct {
			user, body string
			claims     map[string]any
		}{
			{"u-web", "web", nil},
			{"u-claim", "web", map[string]any{"platform": "android"}}, // the claim wins
			{"u-none", "", nil},
			{"qa", "ios", nil},
		} {
			if res, err := enroll("plat", tc.user, tc.body, tc.claims); err != nil || !res.Enrolled {
				t.Fatalf("%s: %+v %v", tc.user, res, err)
			}
			if res, err := enroll("plat-layer", tc.user, tc.body, tc.claims); err != nil || !res.Enrolled {
				t.Fatalf("%s in the layer: %+v %v", tc.user, res, err)
			}
		}
		want := map[string]any{"u-web": "web", "u-claim": "android", "u-none": nil, "qa": "ios"}
		for id, layer := range map[string]string{"plat": "", "plat-layer": "plat-layer"} {
			got := platforms(id, layer)
			if id == "plat-layer" {
				want["qa"] = "ios" // no override there: a member
			}
			for u, p := range want {
				if got[u] != p {
					t.Errorf("%s: %s's event platform %v, want %v", id, u, got[u], p)
				}
			}
		}

		// Refused before anything is written.
		before := len(platforms("plat", ""))
		for _, tc := range []struct {
			body   string
			claims map[string]any
		}{{"tv", nil}, {"", map[string]any{"platform": "tv"}}, {"web", map[string]any{"platform": 7}}, {"IOS", nil}} {
			if _, err := enroll("plat", "u-bad", tc.body, tc.claims); assign.ErrorCode(err) != assign.EINVALID || assign.ErrorField(err) != "platform" {
				t.Fatalf("platform %q / claims %v: %v, want EINVALID on platform", tc.body, tc.claims, err)
			}
		}
		if after := len(platforms("plat", "")); after != before {
			t.Fatalf("a refused platform wrote %d events", after-before)
		}

		// Rules select a platform, from the body or the claim.
		for _, tc := range []struct {
			user, body string
			claims     map[string]any
			eligible   bool
		}{
			{"m-ios", "ios", nil, true},
			{"m-web", "web", nil, false},
			{"m-none", "", nil, false},
			{"m-claim", "web", map[string]any{"platform": "android"}, true},
		} {
			res, err := enroll("plat-ios", tc.user, tc.body, tc.claims)
			if err != nil || res.Enrolled != tc.eligible || (!tc.eligible && res.Reason != assign.ReasonNotEligible) {
				t.Fatalf("%s: %+v %v, want eligible %v", tc.user, res, err, tc.eligible)
			}
		}
	})
}
