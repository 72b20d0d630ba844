package nbserv

import (
	"errors"
	"net/http"
)

// ErrConflict matches a 409: the target of a contents Rename already
// exists ("File already exists: <path>").
var ErrConflict = errors.New("nbserv: conflict")

// classify makes a contents call's *Error match ErrConflict.
//
// TODO(lead): fold into errors.go: add
//
//	case ErrConflict:
//		return e.StatusCode == http.StatusConflict
//
// to (*Error).Is, and make classify return err unchanged (or drop it).
// Until then a 409 *Error is returned wrapped in a conflictError, which
// errors.As still unwraps to the *Error.
func classify(err error) error {
	var e *Error
	if errors.As(err, &e) && e.StatusCode == http.StatusConflict && !e.Is(ErrConflict) {
		return &conflictError{e}
	}
	return err
}

// conflictError is a 409 *Error that also matches ErrConflict.
type conflictError struct{ e *Error }

func (c *conflictError) Error() string { return c.e.Error() }

func (c *conflictError) Unwrap() error { return c.e }

func (c *conflictError) Is(target error) bool { return target == ErrConflict }
