package assign

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// Rule is one eligibility condition on a claim of the user's token. A user is
// eligible when every rule holds. Exactly one of Equals, NotEquals, In is set.
type Rule struct {
	Claim     string `json:"claim"`
	Equals    any    `json:"equals,omitempty"`
	NotEquals any    `json:"not_equals,omitempty"`
	In        []any  `json:"in,omitempty"`
}

// Validate checks that the rule names a claim and exactly one operator whose
// operand is a JSON scalar, and that the claim and every string operand are
// text (ValidateText).
func (r *Rule) Validate() error { return r.validate("eligibility") }

// validate is Validate with the rule's position for the field of text errors
// (field.claim, field.equals, field.not_equals, field.in[i]); the others name
// "eligibility", as they always have.
func (r *Rule) validate(field string) error {
	if r.Claim == "" {
		return Invalidf("eligibility", "claim must not be empty")
	}
	if err := ValidateText(field+".claim", r.Claim); err != nil {
		return err // before any message quotes the claim
	}
	n := 0
	for _, v := range []bool{r.Equals != nil, r.NotEquals != nil, r.In != nil} {
		if v {
			n++
		}
	}
	if n != 1 {
		return Invalidf("eligibility", "rule on claim %q needs exactly one of equals, not_equals, in", r.Claim)
	}
	check := func(f string, v any) error {
		switch x := v.(type) {
		case nil, bool, float64, json.Number:
			return nil
		case string:
			return ValidateText(f, x)
		}
		return Invalidf("eligibility", "rule on claim %q compares with a non-scalar value", r.Claim)
	}
	if err := check(field+".equals", r.Equals); err != nil {
		return err
	}
	if err := check(field+".not_equals", r.NotEquals); err != nil {
		return err
	}
	for i, v := range r.In {
		if err := check(fmt.Sprintf("%s.in[%d]", field, i), v); err != nil {
			return err
		}
	}
	return nil
}

// ValidateClaims checks the claims of a user's token that e's eligibility
// rules read: a string value must be text (ValidateText). The field of an
// error is the claim's name, as "sub" is for the user id. The platform
// claim (PlatformClaim), recorded with every enrollment, must be one of the
// platforms when present. Other claims no rule reads are not looked at.
func (e *Experiment) ValidateClaims(claims map[string]any) error {
	if v, ok := claims[PlatformClaim]; ok {
		if p, _ := v.(string); !ValidPlatform(p) {
			return Invalidf(PlatformClaim, "the token's platform claim must be web, ios, android or other")
		}
	}
	for i := range e.Eligibility {
		name := e.Eligibility[i].Claim
		if s, ok := claims[name].(string); ok {
			if err := ValidateText(name, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// Holds reports whether the rule holds for the given claims. A missing claim
// fails equals and in, and passes not_equals.
func (r *Rule) Holds(claims map[string]any) bool {
	v, ok := claims[r.Claim]
	return r.holds(v, ok)
}

// holds is Holds on the claim's value v (ok false when it is missing).
func (r *Rule) holds(v any, ok bool) bool {
	switch {
	case r.Equals != nil:
		return ok && scalarEqual(v, r.Equals)
	case r.NotEquals != nil:
		return !ok || !scalarEqual(v, r.NotEquals)
	default:
		if !ok {
			return false
		}
		for _, want := range r.In {
			if scalarEqual(v, want) {
				return true
			}
		}
		return false
	}
}

// Eligible reports whether a user with these claims may join e.
func (e *Experiment) Eligible(claims map[string]any) bool { return e.EligibleOn(claims, "") }

// EligibleOn is Eligible for a user on platform (the enrollment body's,
// "" for none): a rule on the claim PlatformClaim reads it when the token
// has no such claim, so rules select a platform however it was given.
func (e *Experiment) EligibleOn(claims map[string]any, platform string) bool {
	for i := range e.Eligibility {
		r := &e.Eligibility[i]
		v, ok := claims[r.Claim]
		if !ok && platform != "" && r.Claim == PlatformClaim {
			v, ok = platform, true
		}
		if !r.holds(v, ok) {
			return false
		}
	}
	return true
}

// scalarEqual compares JSON scalars, treating numbers by value whatever their
// Go type (float64 from encoding/json, json.Number, ints from tests).
func scalarEqual(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && fa == fb
	}
	return reflect.DeepEqual(a, b)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
