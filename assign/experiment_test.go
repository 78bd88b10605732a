package assign_test

import (
	"math"
	"strings"
	"testing"

	"github.com/assign-dev/assign/assign"
)

func validExperiment() assign.Experiment {
	return assign.Experiment{
		ID:                  "f380739f-62f3-4316-8acf-93ed5744cb9e",
		MaxSampleSize:       250,
		SamplingProbability: 0.3,
		Groups: []assign.Group{
			{Name: "old_journey", Probability: 0.5},
			{Name: "new_journey", Probability: 0.5},
		},
		Eligibility: []assign.Rule{{Claim: "first_order", Equals: true}},
	}
}

func TestExperiment_Validate(t *testing.T) {
	manyGroups := make([]assign.Group, 101)
	for i := range manyGroups {
		manyGroups[i] = assign.Group{Name: strings.Repeat("g", i+1), Probability: 1.0 / 101}
	}
	thirds := []assign.Group{{"a", 1.0 / 3}, {"b", 1.0 / 3}, {"c", 1.0 / 3}}

	for _, tc := range []struct {
		name  string
		edit  func(e *assign.Experiment)
		field string // "" means valid
	}{
		{"OK", func(e *assign.Experiment) {}, ""},
		{"ThirdsSumWithinEpsilon", func(e *assign.Experiment) { e.Groups = thirds }, ""},
		{"SingleGroup", func(e *assign.Experiment) { e.Groups = []assign.Group{{"only", 1}} }, ""},
		{"ZeroProbabilityGroup", func(e *assign.Experiment) {
			e.Groups = []assign.Group{{"a", 1}, {"b", 0}}
		}, ""},
		{"EmptyID", func(e *assign.Experiment) { e.ID = "" }, "experiment_id"},
		{"BadIDChars", func(e *assign.Experiment) { e.ID = "a b" }, "experiment_id"},
		{"IDStartsWithDash", func(e *assign.Experiment) { e.ID = "-a" }, "experiment_id"},
		{"IDWithBrace", func(e *assign.Experiment) { e.ID = "a}{b" }, "experiment_id"},
		{"LongID", func(e *assign.Experiment) { e.ID = strings.Repeat("a", 65) }, "experiment_id"},
		{"ZeroSample", func(e *assign.Experiment) { e.MaxSampleSize = 0 }, "maximum_sample_size"},
		{"NegativeSample", func(e *assign.Experiment) { e.MaxSampleSize = -5 }, "maximum_sample_size"},
		{"ZeroSampling", func(e *assign.Experiment) { e.SamplingProbability = 0 }, "sampling_probability"},
		{"SamplingAboveOne", func(e *assign.Experiment) { e.SamplingProbability = 1.01 }, "sampling_probability"},
		{"SamplingNaN", func(e *assign.Experiment) { e.SamplingProbability = math.NaN() }, "sampling_probability"},
		{"NoGroups", func(e *assign.Experiment) { e.Groups = nil }, "groups"},
		{"TooManyGroups", func(e *assign.Experiment) { e.Groups = manyGroups }, "groups"},
		{"SumBelowOne", func(e *assign.Experiment) { e.Groups[1].Probability = 0.4 }, "groups"},
		{"SumJustOutsideEpsilon", func(e *assign.Experiment) { e.Groups[1].Probability = 0.5 + 2e-9 }, "groups"},
		{"SumJustInsideEpsilon", func(e *assign.Experiment) { e.Groups[1].Probability = 0.5 + 5e-10 }, ""},
		{"NegativeProbability", func(e *assign.Experiment) {
			e.Groups = []assign.Group{{"a", 1.5}, {"b", -0.5}}
		}, "groups"},
		{"DuplicateNames", func(e *assign.Experiment) { e.Groups[1].Name = "old_journey" }, "groups"},
		{"EmptyName", func(e *assign.Experiment) { e.Groups[0].Name = " " }, "groups"},
		{"NameWithNewline", func(e *assign.Experiment) { e.Groups[0].Name = "a\nb" }, "groups[0].group_name"},
		{"NameWithESC", func(e *assign.Experiment) { e.Groups[1].Name = "new\x1b[31m" }, "groups[1].group_name"},
		{"NameWithDEL", func(e *assign.Experiment) { e.Groups[0].Name = "a\x7f" }, "groups[0].group_name"},
		{"NameWithLineSeparator", func(e *assign.Experiment) { e.Groups[0].Name = "a\u2028b" }, "groups[0].group_name"},
		{"NameWithBidiOverride", func(e *assign.Experiment) { e.Groups[0].Name = "a\u202eb" }, "groups[0].group_name"},
		{"NameNotUTF8", func(e *assign.Experiment) { e.Groups[0].Name = "a\xffb" }, "groups[0].group_name"},
		{"NameUnicode", func(e *assign.Experiment) { e.Groups[0].Name = "新しい-journey-🙂" }, ""},
		{"ClaimWithNUL", func(e *assign.Experiment) { e.Eligibility[0].Claim = "first\x00order" }, "eligibility[0].claim"},
		{"EqualsWithNUL", func(e *assign.Experiment) { e.Eligibility[0].Equals = "nul\u0000" }, "eligibility[0].equals"},
		{"NotEqualsWithC1", func(e *assign.Experiment) {
			e.Eligibility[0] = assign.Rule{Claim: "country", NotEquals: "D\u009bE"}
		}, "eligibility[0].not_equals"},
		{"InWithNUL", func(e *assign.Experiment) {
			e.Eligibility = append(e.Eligibility, assign.Rule{Claim: "country", In: []any{"DE", "F\x00R"}})
		}, "eligibility[1].in[1]"},
		{"InOK", func(e *assign.Experiment) {
			e.Eligibility = append(e.Eligibility, assign.Rule{Claim: "country", In: []any{"DE", "FR", 3.0, true}})
		}, ""},
		{"UpdatedByWithESC", func(e *assign.Experiment) { e.UpdatedBy = "alice\x1b]0;x\x07" }, "updated_by"},
		{"RuleWithoutClaim", func(e *assign.Experiment) { e.Eligibility[0].Claim = "" }, "eligibility"},
		{"RuleWithTwoOperators", func(e *assign.Experiment) { e.Eligibility[0].NotEquals = false }, "eligibility"},
		{"RuleWithoutOperator", func(e *assign.Experiment) { e.Eligibility[0].Equals = nil }, "eligibility"},
		{"RuleWithObject", func(e *assign.Experiment) { e.Eligibility[0].Equals = map[string]any{} }, "eligibility"},
		{"BadLayer", func(e *assign.Experiment) { e.Layer = "{x}" }, "layer"},
		{"BadStatus", func(e *assign.Experiment) { e.Status = "done" }, "status"},
		{"UnknownWinner", func(e *assign.Experiment) { e.Winner = "nope" }, "winner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := validExperiment()
			tc.edit(&e)
			err := e.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if got, want := assign.ErrorCode(err), assign.EINVALID; got != want {
				t.Fatalf("ErrorCode=%q, want %q (err=%v)", got, want, err)
			} else if got, want := assign.ErrorField(err), tc.field; got != want {
				t.Fatalf("ErrorField=%q, want %q (err=%v)", got, want, err)
			}
		})
	}
}

func TestRule_Holds(t *testing.T) {
	claims := map[string]any{"first_order": true, "country": "DE", "tier": float64(2)}
	for _, tc := range []struct {
		name string
		rule assign.Rule
		want bool
	}{
		{"EqualsBool", assign.Rule{Claim: "first_order", Equals: true}, true},
		{"EqualsBoolFalse", assign.Rule{Claim: "first_order", Equals: false}, false},
		{"EqualsNumberAcrossTypes", assign.Rule{Claim: "tier", Equals: 2}, true},
		{"EqualsMissingClaim", assign.Rule{Claim: "vip", Equals: true}, false},
		{"NotEquals", assign.Rule{Claim: "country", NotEquals: "FR"}, true},
		{"NotEqualsSame", assign.Rule{Claim: "country", NotEquals: "DE"}, false},
		{"NotEqualsMissingClaim", assign.Rule{Claim: "vip", NotEquals: true}, true},
		{"In", assign.Rule{Claim: "country", In: []any{"FR", "DE"}}, true},
		{"NotIn", assign.Rule{Claim: "country", In: []any{"FR", "IT"}}, false},
		{"InMissingClaim", assign.Rule{Claim: "vip", In: []any{true}}, false},
		{"StringIsNotBool", assign.Rule{Claim: "country", Equals: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rule.Holds(claims); got != tc.want {
				t.Fatalf("Holds=%v, want %v", got, tc.want)
			}
		})
	}

	e := validExperiment()
	if !e.Eligible(claims) {
		t.Fatal("Eligible=false for a first order, want true")
	} else if e.Eligible(map[string]any{"first_order": false}) {
		t.Fatal("Eligible=true without a first order, want false")
	}
}

func TestErrorCode(t *testing.T) {
	if got := assign.ErrorCode(nil); got != "" {
		t.Fatalf("ErrorCode(nil)=%q", got)
	} else if got := assign.ErrorCode(assign.Errorf(assign.ENOTFOUND, "x")); got != assign.ENOTFOUND {
		t.Fatalf("ErrorCode=%q, want not_found", got)
	} else if got := assign.ErrorCode(errString("boom")); got != assign.EINTERNAL {
		t.Fatalf("ErrorCode(plain error)=%q, want internal", got)
	} else if got := assign.ErrorMessage(errString("secret detail")); got != "Internal error." {
		t.Fatalf("ErrorMessage(plain error)=%q leaks the detail", got)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
