package zerobuslocal

// FillInflight takes the server's whole in-flight budget on top of what is
// taken, as if other streams held it, and returns the function that gives
// it back.
func FillInflight(s *Server) (giveBack func()) {
	s.inflight.force(s.inflight.size)
	return func() { s.inflight.release(s.inflight.size) }
}

// InflightWaiters is how many receives wait for the in-flight budget.
func InflightWaiters(s *Server) int {
	s.inflight.mu.Lock()
	defer s.inflight.mu.Unlock()
	return s.inflight.waiters.Len()
}

// InflightInUse is how many bytes of the budget are taken.
func InflightInUse(s *Server) int64 { return s.inflight.inUse() }
