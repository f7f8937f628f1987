package main

// quietError carries an error whose message was already shown (check's
// report), so run only turns it into the exit code.
type quietError struct{ err error }

func (e quietError) Error() string { return e.err.Error() }
func (e quietError) Unwrap() error { return e.err }

// childExit is the supervised child's exit code, passed on unchanged.
type childExit struct{ code int }

func (e childExit) Error() string { return "child exited" }
