package assign_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/assign-dev/assign/assign"
)

func TestValidateText(t *testing.T) {
	for _, s := range []string{
		"", "user-1", "f380739f-62f3-4316-8acf-93ed5744cb9e", "a b", "~!#$%&'()*+,-./:;<=>?@[]^_`{|}",
		"ユーザー", "用户-ünïcødé", "🙂", "👩\u200d👩\u200d👧", "می\u200cخواهم", "\ufffd", "\U0010fffd",
	} {
		if err := assign.ValidateText("f", s); err != nil {
			t.Errorf("ValidateText(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range []string{
		"nul\x00user", "\t", "a\nb", "\r", "\x1b[2J", "\x7f", "\u0085", "\u009b31m", "\u2028", "\u2029",
		"\u202e", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c", "\u200b", "\ufeff", "\u00ad", "\u2060",
		"\U000e0041", "\xff", "a\xc3", "\xed\xa0\x80", // a lone byte, a cut sequence, a UTF-16 surrogate
	} {
		err := assign.ValidateText("the_field", s)
		if assign.ErrorCode(err) != assign.EINVALID || assign.ErrorField(err) != "the_field" {
			t.Errorf("ValidateText(%q) = %v, want EINVALID naming the_field", s, err)
		} else if msg := assign.ErrorMessage(err); assign.ValidateText("message", msg) != nil || strings.Contains(msg, s) {
			t.Errorf("ValidateText(%q): message %q repeats the text", s, msg)
		}
	}
}

func TestValidateUserID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"user-1", true}, {strings.Repeat("u", assign.MaxUserIDLen), true}, {"~ABCDEFGHIJKLMN", true},
		{"", false}, {strings.Repeat("u", assign.MaxUserIDLen+1), false}, {"nul\x00user", false}, {"a\u2028", false},
	} {
		err := assign.ValidateUserID(tc.id)
		if tc.ok != (err == nil) {
			t.Errorf("ValidateUserID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		} else if err != nil && (assign.ErrorCode(err) != assign.EINVALID || assign.ErrorField(err) != "sub") {
			t.Errorf("ValidateUserID(%q) = %v, want EINVALID naming sub", tc.id, err)
		}
	}
}

func TestExperiment_ValidateClaims(t *testing.T) {
	e := assign.Experiment{Eligibility: []assign.Rule{
		{Claim: "country", In: []any{"DE"}},
		{Claim: "first_order", Equals: true},
	}}
	for _, tc := range []struct {
		name   string
		claims map[string]any
		field  string
	}{
		{"OK", map[string]any{"country": "DE", "first_order": true}, ""},
		{"Missing", map[string]any{}, ""},
		{"NotAString", map[string]any{"country": 3.0, "first_order": "x"}, ""},
		{"UnreadClaimIgnored", map[string]any{"name": "evil\x1b[2J"}, ""},
		{"ReadClaimWithNUL", map[string]any{"country": "D\x00E"}, "country"},
		{"ReadClaimWithBidi", map[string]any{"first_order": "\u202etrue"}, "first_order"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.ValidateClaims(tc.claims)
			if got := assign.ErrorField(err); (err == nil) != (tc.field == "") || got != tc.field {
				t.Fatalf("ValidateClaims = %v, want field %q", err, tc.field)
			}
		})
	}
}

// FuzzValidateText checks ValidateText against its definition, rune by rune.
func FuzzValidateText(f *testing.F) {
	for _, s := range []string{"", "user-1", "nul\x00", "\x1b[", "\u2028", "\u202e", "\u200d", "\xff", "ユーザー"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := utf8.ValidString(s)
		for _, r := range s {
			if unicode.Is(unicode.Cc, r) || r == '\u2028' || r == '\u2029' ||
				(unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d') {
				want = false
			}
		}
		if err := assign.ValidateText("f", s); (err == nil) != want {
			t.Fatalf("ValidateText(%q) = %v, want ok=%v", s, err, want)
		} else if err != nil && (assign.ErrorCode(err) != assign.EINVALID || assign.ErrorField(err) != "f") {
			t.Fatalf("ValidateText(%q) = %v, want EINVALID naming f", s, err)
		}
	})
}
