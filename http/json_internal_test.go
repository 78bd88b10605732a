package http

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAppendString checks the hand-written JSON string encoder against
// encoding/json: the output always decodes back to the input (invalid UTF-8
// to U+FFFD, as encoding/json does) and never holds raw HTML-unsafe bytes.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\`, "\x00\x1f\n\r\t", "<b>&amp;</b>", "é日本\u2028\u2029", "\xff\xfe", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("appendString(%q)=%s: not JSON: %v", s, out, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if !utf8.ValidString(s) {
			// encoding/json replaces each invalid byte, not each run.
			b, _ := json.Marshal(s)
			_ = json.Unmarshal(b, &want)
		}
		if got != want {
			t.Fatalf("appendString(%q) decodes to %q, want %q", s, got, want)
		}
		if strings.ContainsAny(string(out), "<>&\u2028\u2029") {
			t.Fatalf("appendString(%q)=%s holds HTML-unsafe characters", s, out)
		}
	})
}

// FuzzParseEnrollBody checks that the fast path of the enrollment body parser
// never disagrees with encoding/json: whatever it accepts, the standard
// decoder accepts with the same id.
func FuzzParseEnrollBody(f *testing.F) {
	for _, s := range []string{`{"experiment_id":"abc"}`, ` { "experiment_id" : "a-b.c" } `, `{"experiment_id":"a\"b"}`,
		`{"experiment_id":"x","y":1}`, `{"experiment_id":"x"}}`, `{"experiment_id":"é"}`, `{}`, ``,
		`{"experiment_id":"x","platform":"ios"}`, ` {"experiment_id" :"x" , "platform": "tv" }`, `{"platform":"web","experiment_id":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, platform, ok := fastEnrollRequest(body)
		if !ok {
			return
		}
		var req struct {
			ExperimentID *string `json:"experiment_id"`
			Platform     *string `json:"platform"`
		}
		if err := decodeJSON(body, &req); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json refuses: %v", body, err)
		} else if req.ExperimentID == nil || *req.ExperimentID != id {
			t.Fatalf("fast path read %q from %q, encoding/json %v", id, body, req.ExperimentID)
		} else if (req.Platform == nil) != (platform == "") || (req.Platform != nil && *req.Platform != platform) {
			t.Fatalf("fast path read platform %q from %q, encoding/json %v", platform, body, req.Platform)
		}
		if _, p, err := parseEnrollRequest(body); err != nil || p != platform {
			t.Fatalf("parseEnrollRequest(%q) = %q, %v; the fast path %q", body, p, err, platform)
		}
	})
}
