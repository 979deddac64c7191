package acm

// ValidatePending runs one round of DNS validation, for tests that must
// not wait on Run's ticker.
func (s *Service) ValidatePending() error { return s.validatePending() }
