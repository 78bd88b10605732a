package assign

import (
	"errors"
	"fmt"
)

// Application error codes. The HTTP layer maps each to a status in one table;
// adapters translate driver errors into these in one place.
const (
	ECONFLICT     = "conflict"     // the resource already exists
	EINVALID      = "invalid"      // the request breaks a validation rule
	ENOTFOUND     = "not_found"    // no such resource
	EUNAUTHORIZED = "unauthorized" // missing or bad credentials
	EUNAVAILABLE  = "unavailable"  // a dependency (Redis) is down or too slow
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// Error is an application error: a code for machines, a message for people and,
// for EINVALID, the request field at fault.
type Error struct {
	Code    string
	Message string
	Field   string
}

// Error implements the error interface. It is not meant for end users.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("assign error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("assign error: code=%s message=%s", e.Code, e.Message)
}

// ErrorCode unwraps an application error and returns its code.
// Non-application errors always return EINTERNAL; nil returns "".
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage unwraps an application error and returns its message.
// Non-application errors always return "Internal error." so that nothing
// internal leaks to clients.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the field an EINVALID error names, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Errorf is a helper that returns an application error of the given code.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns an EINVALID error naming the field at fault.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}
