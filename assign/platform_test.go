package assign_test

import (
	"testing"

	"github.com/assign-dev/assign/assign"
)

func TestPlatform(t *testing.T) {
	for _, tc := range []struct {
		claims map[string]any
		body   string
		want   string
	}{
		{nil, "", ""},
		{nil, "ios", "ios"},
		{map[string]any{"platform": "android"}, "web", "android"}, // the signed claim wins
		{map[string]any{"platform": "web"}, "", "web"},
	} {
		r := assign.EnrollRequest{Claims: tc.claims, Platform: tc.body}
		if got := r.EffectivePlatform(); got != tc.want {
			t.Errorf("claims %v body %q: %q, want %q", tc.claims, tc.body, got, tc.want)
		}
	}
	e := assign.Experiment{Eligibility: []assign.Rule{{Claim: "platform", Equals: "ios"}}}
	if !e.EligibleOn(nil, "ios") || e.EligibleOn(nil, "web") || e.EligibleOn(nil, "") ||
		!e.EligibleOn(map[string]any{"platform": "ios"}, "web") || e.EligibleOn(map[string]any{"platform": "web"}, "ios") {
		t.Error("a rule on the platform claim does not see the effective platform")
	}
	none := assign.Experiment{Eligibility: []assign.Rule{{Claim: "platform", NotEquals: "web"}}}
	if !none.EligibleOn(nil, "") || none.EligibleOn(nil, "web") {
		t.Error("not_equals on the platform")
	}
	for _, v := range []any{"tv", "", 3, true, "IOS"} {
		if err := e.ValidateClaims(map[string]any{"platform": v}); assign.ErrorField(err) != "platform" {
			t.Errorf("platform claim %v: %v, want EINVALID on platform", v, err)
		}
	}
	if err := (&assign.Experiment{}).ValidateClaims(map[string]any{"platform": "other"}); err != nil {
		t.Error(err)
	}
	if assign.ValidatePlatform("") != nil || assign.ValidatePlatform("web") != nil || assign.ErrorField(assign.ValidatePlatform("mac")) != "platform" {
		t.Error("ValidatePlatform")
	}
}
