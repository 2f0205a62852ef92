package stream

// Ending is how a stream ends, the same for every transport (Stream here,
// flightstream.Stream): Close started, the terminal error once finished,
// and the cause an abort fails unresolved work with. Its owner guards it
// with its own mutex: every method is called with that mutex held.
type Ending struct {
	closing  bool // Close started: Send returns ErrClosed
	abortErr error
	finished bool
	failed   error // terminal error (nil after a clean close)
}

// StartClose records that Close started.
func (e *Ending) StartClose() { e.closing = true }

// Refuses reports whether Send takes nothing more (closing or finished).
func (e *Ending) Refuses() bool { return e.closing || e.finished }

// Finished reports whether the stream has ended.
func (e *Ending) Finished() bool { return e.finished }

// Failed is the terminal error (nil while the stream runs and after a
// clean close).
func (e *Ending) Failed() error { return e.failed }

// Finish ends the stream with err (nil: clean); it reports false if it had
// ended already (nothing changes).
func (e *Ending) Finish(err error) bool {
	if e.finished {
		return false
	}
	e.finished = true
	e.failed = err
	return true
}

// SendErr is the error Send returns now, or nil if sending is possible.
func (e *Ending) SendErr() error {
	switch {
	case e.finished && e.failed != nil:
		return e.failed
	case e.closing || e.finished:
		return ErrClosed
	}
	return nil
}

// SetAbort records the cause of an abort (the first one wins).
func (e *Ending) SetAbort(err error) {
	if e.abortErr == nil {
		e.abortErr = err
	}
}

// AbortCause is the error unresolved work fails with after an abort.
func (e *Ending) AbortCause() error {
	if e.abortErr != nil {
		return e.abortErr
	}
	return ErrClosed
}
