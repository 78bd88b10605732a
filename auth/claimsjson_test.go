package auth

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// claimsCases are payloads decodeClaims must decode as encoding/json does,
// or leave to it; the fuzz target starts from them.
var claimsCases = []string{
	`{"sub":"c0a80101-0000-4000-8000-000000000001","iat":1796172330,"exp":1796175930,"first_order":true}`,
	` { "sub" : "u" , "exp" : 1.5e9 , "nbf": -0, "x": null, "y": false } `,
	`{}`,
	`{"aud":["a","b"],"n":{"m":{"k":[1,2.5,-3e-2,[],{}]}}}`,
	`{"a":1,"a":2}`,
	`{"name":"Zoë","emoji":"😀"}`,
	`{"bad":"\xff"}`,
	`{"esc":"a\"b"}`,
	`{"esc":"\u00e9"}`,
	`{"ctl":"a` + "\x01" + `"}`,
	`{"n":01}`,
	`{"n":1.}`,
	`{"n":.5}`,
	`{"n":1e}`,
	`{"n":1e400}`,
	`{"n":-}`,
	`{"a":1,}`,
	`{"a":[1,]}`,
	`{"a" 1}`,
	`{"a":1}x`,
	`{"a":1}{}`,
	`[1]`,
	`null`,
	`"s"`,
	`{"a":tru}`,
	`{"a":nul}`,
	`{"a":[` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `]}`,
	`{"\u0073ub":"x"}`,
	`{"sub":"x"` + "\x00" + `}`,
	`{"k":"` + "\x7f" + `"}`,
	`{"k":"\xed\xa0\x80"}`,
	`{"k":"\xef\xbf\xbd"}`,
}

// checkClaimsDecode fails when decodeClaims accepts what encoding/json
// refuses or decodes it differently.
func checkClaimsDecode(t *testing.T, payload string) (accepted bool) {
	t.Helper()
	got, ok := decodeClaims(payload)
	var want map[string]any
	err := json.Unmarshal([]byte(payload), &want)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("decodeClaims accepted %q, which encoding/json refuses: %v", payload, err)
	}
	if got == nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeClaims(%q) = %#v, encoding/json %#v", payload, got, want)
	}
	return true
}

func TestDecodeClaims(t *testing.T) {
	accepted := 0
	for _, p := range claimsCases {
		if checkClaimsDecode(t, p) {
			accepted++
		}
	}
	// The payloads tokens carry must take the fast decoder, or it is useless.
	for _, p := range claimsCases[:6] {
		if _, ok := decodeClaims(p); !ok {
			t.Errorf("decodeClaims refused %q", p)
		}
	}
	if accepted == 0 {
		t.Fatal("nothing accepted")
	}
}

func TestDecodeClaims_Allocs(t *testing.T) {
	p := claimsCases[0]
	// the map (and its storage) and the boxed string and numbers
	if n := testing.AllocsPerRun(100, func() { decodeClaims(p) }); n > 5 {
		t.Errorf("decodeClaims: %v allocations, want at most 5", n)
	}
}

func FuzzDecodeClaims(f *testing.F) {
	for _, p := range claimsCases {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		checkClaimsDecode(t, payload)
	})
}
