package query

// EvaluateAll makes s evaluate every query on every article, to check
// that skipping the queries none of whose triggers occurs loses nothing.
func EvaluateAll(s *Set) { s.evalAll = true }
