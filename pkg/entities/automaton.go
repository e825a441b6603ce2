package entities

// automaton is an Aho-Corasick machine compiled to a dense DFA over byte
// classes. Every pattern byte gets a class (ASCII letters share one class per
// letter regardless of case), other bytes fall in one of two spare classes
// (word or not), and the table has one row of nclass transitions per state.
// A transition stores the target state's row offset, with the top bit set
// when the target reports matches, so the scanning loop is one load, one
// mask and one branch per byte.
//
// The machine is anchored at word starts: a name that begins with a letter
// or digit can only match where the byte before is not an ASCII letter or
// digit, which the final boundary check would demand anyway. Inside a word
// that no name starts, the machine sits in one dead state until the next
// non-word byte, instead of tracking every suffix of every word through the
// table. That keeps the working set to a few rows and is what keeps 10,000
// names fast.
type automaton struct {
	class  [256]uint8
	nclass uint32
	trans  []uint32
	// outputs of the state whose row starts at s*nclass are
	// outPat[outStart[s]:outStart[s+1]], own patterns first, then those of
	// its dictionary suffixes.
	outStart []int32
	outPat   []int32
}

const hasOutput = 1 << 31

func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func isASCIIWord(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

var wordByte = func() (w [256]bool) {
	for b := range 256 {
		w[b] = isASCIIWord(byte(b))
	}
	return w
}()

// buildAutomaton compiles the folded patterns; pattern i is keys[i].
func buildAutomaton(keys []string) *automaton {
	a := &automaton{}
	var used [256]bool
	for _, k := range keys {
		for i := 0; i < len(k); i++ {
			used[lowerASCII(k[i])] = true
		}
	}
	// Class 0: bytes in no pattern that are not word bytes; class 1: word
	// bytes in no pattern. Word-ness of a class decides the dead state.
	const otherClass, otherWordClass = 0, 1
	n := uint32(2)
	classWord := []bool{false, true}
	for b := 0; b < 256; b++ {
		switch {
		case used[b]:
			if n > 255 {
				panic("entities: more than 253 distinct pattern bytes")
			}
			a.class[b] = uint8(n)
			classWord = append(classWord, isASCIIWord(byte(b)))
			n++
		case isASCIIWord(byte(b)):
			a.class[b] = otherWordClass
		default:
			a.class[b] = otherClass
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		a.class[b] = a.class[b+'a'-'A']
	}
	a.nclass = n

	// The trie is built straight into the dense table, -1 marking a
	// missing child; the dead state is added after the trie nodes.
	maxStates := 2 // the root and the dead state
	for _, k := range keys {
		maxStates += len(k)
	}
	dense := make([]int32, 0, maxStates*int(n))
	newRow := func() int32 {
		s := int32(len(dense) / int(n))
		for range n {
			dense = append(dense, -1)
		}
		return s
	}
	row := func(s int32) []int32 { return dense[int(s)*int(n) : (int(s)+1)*int(n)] }
	newRow() // root
	own := map[int32][]int32{}
	for pi, k := range keys {
		s := int32(0)
		for i := 0; i < len(k); i++ {
			c := a.class[k[i]]
			t := row(s)[c]
			if t < 0 {
				t = newRow()
				row(s)[c] = t
			}
			s = t
		}
		own[s] = append(own[s], int32(pi))
	}
	dead := newRow()
	ns := int(dead) + 1

	// Failure links breadth-first as usual, except that only suffixes
	// starting after a non-word byte count. A missing transition of s is
	// the transition of fail(s); a row's -1 entries are filled when the row
	// is reached, so until then the others are its children.
	fail := make([]int32, ns)
	outs := make([][]int32, ns)
	queue := make([]int32, 0, ns)
	root, deadRow := row(0), row(dead)
	for c := uint32(0); c < n; c++ {
		if t := root[c]; t >= 0 {
			if classWord[c] {
				fail[t] = dead
			}
			queue = append(queue, t)
		} else if classWord[c] {
			root[c] = dead
		} else {
			root[c] = 0
		}
	}
	for c := uint32(0); c < n; c++ {
		if classWord[c] {
			deadRow[c] = dead
		} else {
			deadRow[c] = root[c]
		}
	}
	outs[0] = own[0]
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		if o := own[s]; len(o) > 0 || len(outs[fail[s]]) > 0 {
			outs[s] = append(append([]int32(nil), o...), outs[fail[s]]...)
		}
		rs, rf := row(s), row(fail[s])
		for c := uint32(0); c < n; c++ {
			if t := rs[c]; t >= 0 {
				fail[t] = rf[c]
				queue = append(queue, t)
			} else {
				rs[c] = rf[c]
			}
		}
	}

	// Renumber states breadth-first: the root, the dead state and shallow
	// states, where the scan spends nearly all its time, then share a few
	// cache lines.
	order := append([]int32{0, dead}, queue...)
	rank := make([]uint32, ns)
	for r, s := range order {
		rank[s] = uint32(r)
	}
	a.trans = make([]uint32, len(dense))
	a.outStart = make([]int32, ns+1)
	for r, s := range order {
		for c, t := range row(s) {
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
	dead := n // the dead state is numbered 1, right after the root
	st := uint32(0)
	for i := 0; i < len(text); i++ {
		if st == dead {
			// The rest of a word no name starts: skip it without the
			// dependent table loads.
			for i < len(text) && wordByte[text[i]] {
				i++
			}
			if i == len(text) {
				break
			}
		}
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
