package warehouse_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/warehouse"
)

func TestEncodeFields_Lossless(t *testing.T) {
	cases := []map[string]any{
		{},
		{"type": "enroll", "user": "u-1", "group": "a", "ts": "1"},
		{"user": "nul\x00user", "group": "bad\xffutf8", "quote": `"<&>\`, "nl": "a\nb\u2028"},
		{"bad\xfekey": "v", "n": 42},
	}
	for _, c := range cases {
		text := warehouse.EncodeFields(c)
		if !warehouse.ValidText(text) {
			t.Fatalf("EncodeFields(%q) = %q: not valid text", c, text)
		}
		back, err := warehouse.DecodeFields(text)
		if err != nil {
			t.Fatalf("DecodeFields(%q): %v", text, err)
		}
		if len(back) != len(c) {
			t.Fatalf("%q: decoded %q", text, back)
		}
		for k, v := range c {
			if !utf8.ValidString(k) {
				continue // named by its hex
			}
			want, ok := v.(string)
			if !ok {
				want = "42"
			}
			if back[k] != want {
				t.Fatalf("%q: field %q = %q, want %q", text, k, back[k], want)
			}
		}
	}
	if got := warehouse.EncodeFields(map[string]any{"user": "a\x00b", "group": "\xff"}); got != `{"group":{"hex":"ff"},"user":"a\u0000b"}` {
		t.Fatalf("EncodeFields = %s", got)
	}
}

func TestCheckText(t *testing.T) {
	ok := warehouse.EnrollmentRow{ExperimentID: "e", UserID: "ünïcode-\x1b-ok", Group: "a"}
	if err := warehouse.CheckEnrollment(&ok); err != nil {
		t.Fatalf("a control character other than NUL is the edge's business, not the warehouse's: %v", err)
	}
	for _, r := range []warehouse.EnrollmentRow{
		{ExperimentID: "e", UserID: "nul\x00user", Group: "a"},
		{ExperimentID: "e", UserID: "ü\x00", Group: "a"},
		{ExperimentID: "e", UserID: "u", Group: "bad\xff"},
		{ExperimentID: "e\xc3", UserID: "u", Group: "a"},
	} {
		if err := warehouse.CheckEnrollment(&r); err == nil {
			t.Fatalf("CheckEnrollment(%#v) passed", r)
		}
	}
	x := warehouse.ExperimentRow{ExperimentID: "e", Groups: []assign.Group{{Name: "a"}},
		Eligibility: []assign.Rule{{Claim: "country", In: []any{"FR", "D\x00E"}}}}
	if err := warehouse.CheckExperiment(&x); err == nil || !strings.Contains(err.Error(), "eligibility") {
		t.Fatalf("CheckExperiment with a NUL in a rule: %v", err)
	}
	x.Eligibility = nil
	x.Groups[0].Name = "a\x00"
	if err := warehouse.CheckExperiment(&x); err == nil || !strings.Contains(err.Error(), "groups[0]") {
		t.Fatalf("CheckExperiment with a NUL in a group: %v", err)
	}
	if got := warehouse.Text("a\x00b\xffc\u00e9"); got != `a\x00b\xffcé` {
		t.Fatalf("Text = %q", got)
	}
}
