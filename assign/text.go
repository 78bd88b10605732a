package assign

import (
	"unicode"
	"unicode/utf8"
)

// MaxUserIDLen is the longest user id (a token's sub) accepted, in bytes.
const MaxUserIDLen = 256

// ValidateText checks a string that is stored (in Redis, in the warehouse)
// or printed (by assignctl, in logs): it must be valid UTF-8 and hold no
// control character. Refused, as an EINVALID error naming field:
//   - invalid UTF-8 (PostgreSQL refuses it, and so does every JSON reader);
//   - C0 controls U+0000..U+001F (NUL stops PostgreSQL's COPY; ESC drives
//     terminals; tab and newlines break logs and CSV), DEL U+007F and the C1
//     controls U+0080..U+009F (CSI U+009B is ESC [ for many terminals);
//   - the line and paragraph separators U+2028 and U+2029;
//   - Unicode format characters (category Cf): the bidirectional controls
//     (U+202A..U+202E, U+2066..U+2069, U+200E/U+200F, U+061C) that reorder
//     what a terminal or a review shows, and the invisible ones (U+200B
//     zero width space, U+2060..U+2064, U+00AD soft hyphen, U+FEFF, the tag
//     characters U+E0000..U+E007F) that make two names look alike.
//
// Two format characters stay allowed because ordinary text needs them and
// they move nothing: U+200C ZERO WIDTH NON-JOINER (Persian, Indic scripts)
// and U+200D ZERO WIDTH JOINER (emoji sequences). Everything else, any
// script, emoji, private use, is accepted. The empty string is valid here;
// callers that require a value check it themselves.
//
// The message never repeats the string (it may be what a terminal must not
// see); it names the character and its byte offset.
func ValidateText(field, s string) error {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return Invalidf(field, "%s holds the control character U+%04X at byte %d", field, c, i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return Invalidf(field, "%s is not valid UTF-8 (byte %d)", field, i)
		}
		if forbiddenRune(r) {
			return Invalidf(field, "%s holds the control or invisible format character U+%04X at byte %d", field, r, i)
		}
		i += size
	}
	return nil
}

// forbiddenRune reports whether a non-ASCII rune is refused by ValidateText.
func forbiddenRune(r rune) bool {
	switch {
	case r == '\u200c' || r == '\u200d':
		return false
	case r <= 0x9f: // C1 (the ASCII range is handled by the caller)
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	}
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Cc, r)
}

// ValidateUserID checks a user id, the subject (sub) of a user's token: 1 to
// MaxUserIDLen bytes of text as ValidateText accepts it. Errors name the
// field "sub" and answer 400: the token is authentic, its content is not
// something assign can store.
func ValidateUserID(id string) error {
	if id == "" {
		return Invalidf("sub", "the token has no subject (user id)")
	} else if len(id) > MaxUserIDLen {
		return Invalidf("sub", "the user id is longer than %d bytes", MaxUserIDLen)
	}
	return ValidateText("sub", id)
}
