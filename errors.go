package codeset

import (
	"errors"
	"fmt"
)

// Error kinds. The errors of every package wrap one of them (or an error
// made with KindError), so that each front end, the command line and the
// HTTP API, can tell a user what went wrong in its own terms from one table
// of kinds, without knowing every package's errors.
var (
	// ErrNotFound: what was asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the request or input is malformed.
	ErrInvalid = errors.New("invalid")
	// ErrConflict: the request clashes with the current state (a label
	// already taken, a job already running).
	ErrConflict = errors.New("conflict")
	// ErrRefused: a check refused a well-formed request on purpose (a
	// publish guard); the user may override it.
	ErrRefused = errors.New("refused")
)

// KindError is an error of a kind (one of ErrNotFound, ErrInvalid,
// ErrConflict, ErrRefused): errors.Is finds both the error itself and its
// kind, and Error shows only the message.
type KindError struct {
	Kind error
	Msg  string
}

// NewError returns a *KindError of kind with the formatted message, for
// package sentinels such as "no such release".
func NewError(kind error, format string, args ...any) error {
	return &KindError{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

func (e *KindError) Error() string { return e.Msg }

// Is reports whether target is e's kind.
func (e *KindError) Is(target error) bool { return target == e.Kind }
