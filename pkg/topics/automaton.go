package topics

// automaton is an Aho-Corasick machine compiled to a dense transition table
// over a reduced byte alphabet, so matching all terms of all topics is one
// table lookup per input byte, whatever the number of terms.
type automaton struct {
	class   [256]uint8 // byte -> alphabet class; 0 for bytes no term uses
	classes int
	// state*classes + class -> next state<<1 | has outputs. Small machines
	// (the default has under 10,000 states) use 16-bit entries: half the
	// cache footprint, and the table lookup is the whole cost per byte.
	delta16 []uint16
	delta32 []uint32
	outIdx  []int32 // outputs of state s are outs[outIdx[s]:outIdx[s+1]]
	outs    []int32 // pattern ids
	plen    []int32 // pattern length in bytes
	prefix  []bool  // pattern may end inside a word
}

// hit is one pattern occurrence in the normalised buffer, [start, end).
type hit struct {
	start, end int32
	pattern    int32
}

func isWordByte(b byte) bool {
	return b != ' ' && b != sentenceSep
}

// buildAutomaton compiles the patterns; pattern i keeps id i.
func buildAutomaton(patterns []string, prefix []bool) *automaton {
	a := &automaton{prefix: prefix, plen: make([]int32, len(patterns))}
	a.classes = 1
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			if a.class[p[i]] == 0 {
				a.class[p[i]] = uint8(a.classes)
				a.classes++
			}
		}
	}
	k := a.classes
	// Trie.
	trie := make([]int32, k) // state 0 = root
	outputs := [][]int32{nil}
	for id, p := range patterns {
		a.plen[id] = int32(len(p))
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := int(a.class[p[i]])
			next := trie[int(s)*k+c]
			if next == 0 {
				next = int32(len(outputs))
				trie[int(s)*k+c] = next
				trie = append(trie, make([]int32, k)...)
				outputs = append(outputs, nil)
			}
			s = next
		}
		outputs[s] = append(outputs[s], int32(id))
	}
	// Breadth-first: failure links, merged outputs, full transitions.
	n := len(outputs)
	fail := make([]int32, n)
	queue := make([]int32, 0, n)
	for c := 0; c < k; c++ {
		if s := trie[c]; s != 0 {
			queue = append(queue, s)
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		outputs[s] = append(outputs[s], outputs[fail[s]]...)
		for c := 0; c < k; c++ {
			t := trie[int(s)*k+c]
			if t != 0 {
				fail[t] = trie[int(fail[s])*k+c]
				queue = append(queue, t)
			} else {
				trie[int(s)*k+c] = trie[int(fail[s])*k+c]
			}
		}
	}
	// Mark transitions into states with outputs in the low bit, so the
	// matching loop tests one bit instead of loading the output index.
	if n < 1<<15 {
		a.delta16 = make([]uint16, len(trie))
	} else {
		a.delta32 = make([]uint32, len(trie))
	}
	for i, t := range trie {
		v := uint32(t) << 1
		if len(outputs[t]) > 0 {
			v |= 1
		}
		if a.delta16 != nil {
			a.delta16[i] = uint16(v)
		} else {
			a.delta32[i] = v
		}
	}
	a.outIdx = make([]int32, n+1)
	for s := 0; s < n; s++ {
		a.outIdx[s] = int32(len(a.outs))
		a.outs = append(a.outs, outputs[s]...)
	}
	a.outIdx[n] = int32(len(a.outs))
	return a
}

// match appends every whole-word (or, for prefix patterns, word-initial)
// occurrence in buf to hits, in order of end position.
func (a *automaton) match(buf []byte, hits []hit) []hit {
	if a.delta16 != nil {
		return matchTable(a, a.delta16, buf, hits)
	}
	return matchTable(a, a.delta32, buf, hits)
}

func matchTable[T uint16 | uint32](a *automaton, delta []T, buf []byte, hits []hit) []hit {
	k := uint32(a.classes)
	class, outIdx := &a.class, a.outIdx
	s := uint32(0)
	for i := 0; i < len(buf); i++ {
		d := uint32(delta[s*k+uint32(class[buf[i]])])
		s = d >> 1
		if d&1 == 0 {
			continue
		}
		lo, hi := outIdx[s], outIdx[s+1]
		endsWord := i+1 == len(buf) || !isWordByte(buf[i+1])
		for _, id := range a.outs[lo:hi] {
			start := i + 1 - int(a.plen[id])
			if start > 0 && isWordByte(buf[start-1]) {
				continue
			}
			if !endsWord && !a.prefix[id] {
				continue
			}
			hits = append(hits, hit{start: int32(start), end: int32(i + 1), pattern: id})
		}
	}
	return hits
}
