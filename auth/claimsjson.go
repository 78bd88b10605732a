package auth

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// libClaims is what the library decodes a token's claims into, for the
// tokens it verifies (every alg but the HS256 fast path's): the
// jwt.MapClaims it validates (the methods are promoted), filled by
// decodeClaims when it can and otherwise by encoding/json exactly as the
// library fills a jwt.MapClaims, errors included. The library's
// json.Unmarshal hands UnmarshalJSON the whole payload once it has checked
// it is valid JSON, so syntax errors are its own as before.
type libClaims struct{ jwt.MapClaims }

func (c *libClaims) UnmarshalJSON(data []byte) error {
	if m, ok := decodeClaims(string(data)); ok {
		c.MapClaims = m
		return nil
	}
	if c.MapClaims == nil {
		c.MapClaims = jwt.MapClaims{} // what the library was given
	}
	return json.Unmarshal(data, &c.MapClaims)
}

// mapClaims returns the claims a parse left in tok (empty when it stopped
// before them).
func mapClaims(tok *jwt.Token) jwt.MapClaims {
	if tok == nil {
		return nil
	}
	if c, ok := tok.Claims.(*libClaims); ok && c != nil {
		return c.MapClaims
	}
	return nil
}

// maxClaimsDepth bounds the nesting decodeClaims follows; deeper payloads
// go to encoding/json.
const maxClaimsDepth = 32

// decodeClaims decodes a JWT payload into exactly the map that
// encoding/json.Unmarshal would produce into a map[string]any (numbers
// float64, arrays []any, objects map[string]any, null nil, the last of
// repeated keys), for the payloads tokens carry: strings without escapes,
// control characters or invalid UTF-8, and nesting up to maxClaimsDepth.
// It returns ok=false for anything else, valid or not, which the caller
// hands to encoding/json: so it never accepts what encoding/json refuses,
// nor decodes anything differently (FuzzDecodeClaims holds it to that).
//
// Unlike encoding/json it does not copy the strings: keys and values are
// substrings of s, so a payload costs one string, the map and the boxing
// of its values, instead of a reflective decode allocating per key.
func decodeClaims(s string) (m map[string]any, ok bool) {
	p := claimsParser{s: s}
	p.space()
	if p.i >= len(s) || s[p.i] != '{' {
		return nil, false
	}
	if m, ok = p.object(1); !ok {
		return nil, false
	}
	p.space()
	if p.i != len(s) {
		return nil, false
	}
	return m, true
}

type claimsParser struct {
	s string
	i int
}

func (p *claimsParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// object reads {...} at p.i, which holds '{'.
func (p *claimsParser) object(depth int) (map[string]any, bool) {
	p.i++
	m := make(map[string]any)
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return m, true
	}
	for {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, false
		}
		key, ok := p.str()
		if !ok {
			return nil, false
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, false
		}
		p.i++
		p.space()
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		m[key] = v
		p.space()
		if p.i >= len(p.s) {
			return nil, false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.space()
		case '}':
			p.i++
			return m, true
		default:
			return nil, false
		}
	}
}

// array reads [...] at p.i, which holds '['. Like encoding/json, an empty
// array is an empty, non-nil []any.
func (p *claimsParser) array(depth int) ([]any, bool) {
	p.i++
	a := make([]any, 0)
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return a, true
	}
	for {
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		p.space()
		if p.i >= len(p.s) {
			return nil, false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.space()
		case ']':
			p.i++
			return a, true
		default:
			return nil, false
		}
	}
}

// value reads one value at p.i, inside a container at depth.
func (p *claimsParser) value(depth int) (any, bool) {
	if p.i >= len(p.s) {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		v, ok := p.str()
		if !ok {
			return nil, false
		}
		return v, true
	case c == '{' || c == '[':
		if depth >= maxClaimsDepth {
			return nil, false
		}
		if c == '{' {
			if v, ok := p.object(depth + 1); ok {
				return v, true
			}
		} else if v, ok := p.array(depth + 1); ok {
			return v, true
		}
		return nil, false
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	}
	return nil, false
}

func (p *claimsParser) literal(word string) bool {
	if len(p.s)-p.i < len(word) || p.s[p.i:p.i+len(word)] != word {
		return false
	}
	p.i += len(word)
	return true
}

// str reads a string at p.i, which holds '"', and returns its contents:
// refused when it holds an escape or a control character (encoding/json
// would unescape or refuse) or invalid UTF-8 (it would substitute U+FFFD).
func (p *claimsParser) str() (string, bool) {
	p.i++
	start, ascii := p.i, true
	for ; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		switch {
		case c == '"':
			v := p.s[start:p.i]
			p.i++
			if !ascii && !utf8.ValidString(v) {
				return "", false
			}
			return v, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// number reads a JSON number and converts it as encoding/json does
// (strconv.ParseFloat, refusing what is out of range).
func (p *claimsParser) number() (any, bool) {
	s, start := p.s, p.i
	i := p.i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(s, i)
	default:
		return nil, false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return nil, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return nil, false
		}
		i = j
	}
	f, err := strconv.ParseFloat(s[start:i], 64)
	if err != nil {
		return nil, false
	}
	p.i = i
	return f, true
}

func digits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}
