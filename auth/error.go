package auth

import (
	"errors"

	"github.com/assign-dev/assign/assign"
)

// Reasons a token is rejected, as returned by Reason. They are stable strings
// meant for metric labels and logs, never containing token data.
const (
	ReasonMissing        = "missing"          // no token at all
	ReasonMalformed      = "malformed"        // not three base64url parts of JSON, or a claim of the wrong type
	ReasonBadSignature   = "bad_signature"    // signature does not match the configured key
	ReasonExpired        = "expired"          // exp is in the past (beyond the leeway)
	ReasonMissingExpiry  = "missing_expiry"   // no exp claim: every token must expire
	ReasonNotYetValid    = "not_yet_valid"    // nbf is in the future (beyond the leeway)
	ReasonWrongIssuer    = "wrong_issuer"     // iss missing or not the configured issuer
	ReasonWrongAudience  = "wrong_audience"   // aud missing or without the configured audience
	ReasonMissingSubject = "missing_subject"  // no sub, or an empty one
	ReasonAlgNotAllowed  = "alg_not_allowed"  // alg is none, unknown, not enabled by a configured key, or not the alg of the JWKS key its kid names
	ReasonUnknownKey     = "unknown_key"      // kid names no key of the JWKS (none published, or removed), even after a refresh
	ReasonCritical       = "unsupported_crit" // a crit header names extensions the verifier does not understand (RFC 7515)
)

// Error is a rejected token. It unwraps to an *assign.Error with code
// EUNAUTHORIZED, so the HTTP layer's error table maps it to 401, and to the
// underlying jwt error, if any, for logs.
type Error struct {
	Reason string
	Err    error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return "auth: " + e.Reason + ": " + e.Err.Error()
	}
	return "auth: " + e.Reason
}

// Unwrap returns the application error and the cause.
func (e *Error) Unwrap() []error {
	app := &assign.Error{Code: assign.EUNAUTHORIZED, Message: reasonMessages[e.Reason]}
	if e.Err != nil {
		return []error{app, e.Err}
	}
	return []error{app}
}

// Reason returns the rejection reason of an error returned by Verify, or ""
// when err is nil or not a token rejection.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// reasonMessages are the client-facing messages: precise enough to fix a
// client, silent about keys and configuration.
var reasonMessages = map[string]string{
	ReasonMissing:        "A Bearer token is required.",
	ReasonMalformed:      "The token is malformed.",
	ReasonBadSignature:   "The token signature is invalid.",
	ReasonExpired:        "The token has expired.",
	ReasonMissingExpiry:  "The token has no expiry (exp).",
	ReasonNotYetValid:    "The token is not valid yet.",
	ReasonWrongIssuer:    "The token issuer is not accepted.",
	ReasonWrongAudience:  "The token audience is not accepted.",
	ReasonMissingSubject: "The token has no subject (sub).",
	ReasonAlgNotAllowed:  "The token signing algorithm is not accepted.",
	ReasonUnknownKey:     "The token's signing key (kid) is not known.",
	ReasonCritical:       "The token requires header extensions (crit) that are not supported.",
}

// Pre-built rejections of the checks done before jwt parsing, so the
// commonest failures cost no allocation.
var (
	errMissing   = &Error{Reason: ReasonMissing}
	errMalformed = &Error{Reason: ReasonMalformed}
	errCritical  = &Error{Reason: ReasonCritical}
)
