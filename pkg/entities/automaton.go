package entities

// automaton is an Aho-Corasick machine compiled to a dense DFA over byte
// classes. Every pattern byte gets a class (ASCII letters share one class per
// letter regardless of case), every other byte is class 0, and the table has
// one row of nclass transitions per state. A transition stores the target
// state's row offset, with the top bit set when the target reports matches,
// so the scanning loop is one load, one mask and one branch per byte.
type automaton struct {
	class  [256]uint8
	nclass uint32
	trans  []uint32
	// outputs of the state whose row starts at s*nclass are
	// outPat[outStart[s]:outStart[s+1]], own patterns first, then those of
	// its dictionary suffixes.
	outStart []int32
	outPat   []int32
	patLen   []int32
}

const hasOutput = 1 << 31

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// buildAutomaton compiles the folded patterns; pattern i is keys[i].
func buildAutomaton(keys []string) *automaton {
	a := &automaton{}
	var used [256]bool
	for _, k := range keys {
		for i := 0; i < len(k); i++ {
			used[lowerASCII(k[i])] = true
		}
	}
	n := uint32(1) // class 0: bytes in no pattern
	for b := 0; b < 256; b++ {
		if used[b] {
			a.class[b] = uint8(n)
			n++
		}
	}
	if n > 256 {
		// Every byte value occurs: fold the rarest into class 0 is not
		// possible without losing matches, so give up on compression.
		panic("entities: more than 255 distinct pattern bytes")
	}
	for b := 'A'; b <= 'Z'; b++ {
		a.class[b] = a.class[b+'a'-'A']
	}
	a.nclass = n

	// Trie with sparse children while building.
	type node struct {
		next map[uint8]int32
		out  []int32
	}
	nodes := []node{{next: map[uint8]int32{}}}
	a.patLen = make([]int32, len(keys))
	for pi, k := range keys {
		s := int32(0)
		for i := 0; i < len(k); i++ {
			c := a.class[k[i]]
			t, ok := nodes[s].next[c]
			if !ok {
				t = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				nodes[s].next[c] = t
			}
			s = t
		}
		nodes[s].out = append(nodes[s].out, int32(pi))
		a.patLen[pi] = int32(len(k))
	}

	// Breadth-first failure links, filling the dense table as we go: a
	// missing transition of s is the transition of fail(s).
	ns := len(nodes)
	fail := make([]int32, ns)
	dense := make([]int32, ns*int(n))
	outs := make([][]int32, ns)
	queue := make([]int32, 0, ns)
	for c := uint32(0); c < n; c++ {
		if t, ok := nodes[0].next[uint8(c)]; ok {
			dense[c] = t
			fail[t] = 0
			queue = append(queue, t)
		}
	}
	outs[0] = nodes[0].out
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		outs[s] = append(append([]int32(nil), nodes[s].out...), outs[fail[s]]...)
		for c := uint32(0); c < n; c++ {
			if t, ok := nodes[s].next[uint8(c)]; ok {
				dense[int(s)*int(n)+int(c)] = t
				fail[t] = dense[int(fail[s])*int(n)+int(c)]
				queue = append(queue, t)
			} else {
				dense[int(s)*int(n)+int(c)] = dense[int(fail[s])*int(n)+int(c)]
			}
		}
	}

	// Renumber states breadth-first: the root and shallow states, where the
	// scan spends nearly all its time, then share a few cache lines.
	order := append([]int32{0}, queue...)
	rank := make([]uint32, ns)
	for r, s := range order {
		rank[s] = uint32(r)
	}
	a.trans = make([]uint32, len(dense))
	a.outStart = make([]int32, ns+1)
	for r, s := range order {
		for c := 0; c < int(n); c++ {
			t := dense[int(s)*int(n)+c]
			v := rank[t] * n
			if len(outs[t]) > 0 {
				v |= hasOutput
			}
			a.trans[r*int(n)+c] = v
		}
		a.outStart[r+1] = a.outStart[r] + int32(len(outs[s]))
		a.outPat = append(a.outPat, outs[s]...)
	}
	return a
}

// hit is a raw automaton match: pattern pat ends at byte end.
type hit struct {
	pat int32
	end int32
}

// scan appends every pattern occurrence in text to hits. It does not
// allocate unless hits must grow.
func (a *automaton) scan(text string, hits []hit) []hit {
	trans, class, n := a.trans, &a.class, a.nclass
	st := uint32(0)
	for i := 0; i < len(text); i++ {
		t := trans[st+uint32(class[text[i]])]
		st = t &^ hasOutput
		if t&hasOutput != 0 {
			s := st / n
			for _, p := range a.outPat[a.outStart[s]:a.outStart[s+1]] {
				hits = append(hits, hit{pat: p, end: int32(i + 1)})
			}
		}
	}
	return hits
}
