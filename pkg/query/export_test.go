package query

// EvaluateAll makes s evaluate every query on every article, to check
// that skipping the queries none of whose triggers occurs loses nothing.
func EvaluateAll(s *Set) { s.evalAll = true }

// NoPrefilter makes Match on an unprepared Doc skip the need check, to
// compare with it.
func NoPrefilter(q *Query) { q.noNeed = true }

// MayMatch is the need check Match does before normalising d.
func MayMatch(q *Query, d *Doc) bool {
	q.compiled()
	var low [2]lowerField
	return q.need.check(d, &low) != noMatch
}

// NoTerm reports whether the need check proves that no term of q occurs
// in d.
func NoTerm(q *Query, d *Doc) bool {
	q.compiled()
	var low [2]lowerField
	return q.need.check(d, &low) == noTerm
}
