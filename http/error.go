package http

import (
	"context"
	"errors"

	"github.com/assign-dev/assign/assign"
	"github.com/valyala/fasthttp"
)

// Error codes of the HTTP layer itself, beside the application codes of the
// assign package. They appear in the "code" of error bodies.
const (
	ENOROUTE          = "no_route"               // no such endpoint
	EMETHOD           = "method_not_allowed"     // endpoint exists, method does not
	EMEDIATYPE        = "unsupported_media_type" // body is not application/json
	ETOOLARGE         = "too_large"              // body over MaxRequestBodySize
	EMALFORMEDREQUEST = "bad_request"            // HTTP framing error caught by fasthttp
	ETIMEOUT          = "timeout"                // client too slow to send its request
	EHEADERTOOLARGE   = "header_too_large"       // request headers exceed the read buffer
)

// FallbackDefaultExperience is the action an enrollment client should take
// when the service cannot decide: show the user the default experience.
const FallbackDefaultExperience = "default_experience"

// statuses is THE table from error codes to HTTP statuses. Unknown codes are
// internal errors.
var statuses = map[string]int{
	assign.ECONFLICT:     fasthttp.StatusConflict,
	assign.EINVALID:      fasthttp.StatusBadRequest,
	assign.ENOTFOUND:     fasthttp.StatusNotFound,
	assign.EUNAUTHORIZED: fasthttp.StatusUnauthorized,
	assign.EUNAVAILABLE:  fasthttp.StatusServiceUnavailable,
	assign.EINTERNAL:     fasthttp.StatusInternalServerError,
	ENOROUTE:             fasthttp.StatusNotFound,
	EMETHOD:              fasthttp.StatusMethodNotAllowed,
	EMEDIATYPE:           fasthttp.StatusUnsupportedMediaType,
	ETOOLARGE:            fasthttp.StatusRequestEntityTooLarge,
	EMALFORMEDREQUEST:    fasthttp.StatusBadRequest,
	ETIMEOUT:             fasthttp.StatusRequestTimeout,
	EHEADERTOOLARGE:      fasthttp.StatusRequestHeaderFieldsTooLarge,
}

// ErrorStatus returns the HTTP status of an error code.
func ErrorStatus(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return fasthttp.StatusInternalServerError
}

// errorCode returns the application code of err, counting a missed deadline
// or a cancelled call as unavailability rather than a bug: the store answered
// too late, which the client handles like Redis being down.
func errorCode(err error) string {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return assign.EUNAVAILABLE
	}
	return assign.ErrorCode(err)
}

// errorMessage is the client-facing message of err; internal details never
// leave the process.
func errorMessage(code string, err error) string {
	switch code {
	case assign.EUNAVAILABLE:
		if msg := assign.ErrorMessage(err); msg != "Internal error." && msg != "" {
			return msg
		}
		return "The service cannot answer in time; try again later."
	case assign.EINTERNAL:
		return "Internal error."
	}
	return assign.ErrorMessage(err)
}

// appendError encodes THE error body:
//
//	{"error":{"code":"...","message":"...","field":"...","fallback":"..."}}
//
// field and fallback are present only when set.
func appendError(b []byte, code, message, field, fallback string) []byte {
	b = append(b, `{"error":{"code":`...)
	b = appendString(b, code)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	if field != "" {
		b = append(b, `,"field":`...)
		b = appendString(b, field)
	}
	if fallback != "" {
		b = append(b, `,"fallback":`...)
		b = appendString(b, fallback)
	}
	return append(b, "}}"...)
}
