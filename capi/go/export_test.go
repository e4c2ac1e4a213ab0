package connections

// HandleFreed reports whether s's C handle has been closed (dhc_store_close returned), for
// the tests of Close.
func HandleFreed(s *Store) bool {
	select {
	case <-s.ref.st.freed:
		return true
	default:
		return false
	}
}
