package scan

import (
	"fmt"
	"strings"
)

// automaton is an Aho-Corasick machine compiled to a dense DFA over byte
// classes: every byte some pattern uses has its own class, other bytes
// fall in one of two spare classes (word or separator), and the table has
// one row of nclass transitions per state. A transition stores the target
// row's offset with the top bit set when the target reports matches, so
// the scanning loop is one load, one mask and one branch per byte.
//
// Every pattern starts at a word start, so the machine is anchored there:
// failure links only lead to suffixes that begin after a separator, and
// inside a word that no pattern starts, the machine sits in a dead state
// until the next separator instead of tracking every suffix of every word
// through the table. That keeps the working set to a few rows and is what
// keeps tens of thousands of terms fast.
type automaton struct {
	class  [256]uint8
	nclass uint32
	trans  []uint32
	// outputs of the state whose row starts at s*nclass are
	// outs[outStart[s]:outStart[s+1]], own patterns first, then those of
	// its dictionary suffixes; each carries all the scan needs, so a hit
	// costs one load of a 16-byte entry.
	outStart []int32
	outs     []output
}

// output is one pattern a state reports.
type output struct {
	list, index, plen int32
	prefix            bool
}

const hasOutput = 1 << 31

// isSep reports the bytes that separate words in a normalised buffer.
func isSep(b byte) bool { return b == ' ' || b == Sep }

var wordByte = func() (w [256]bool) {
	for b := range 256 {
		w[b] = !isSep(byte(b))
	}
	return w
}()

// buildAutomaton compiles normalised patterns; pattern i is pats[i], may
// end inside a word when prefix[i], and is reported as term index[i] of
// dictionary list[i]. An empty pattern never matches.
func buildAutomaton(pats []string, prefix []bool, list, index []int32) (*automaton, error) {
	a := &automaton{}
	var used [256]bool
	for _, p := range pats {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	// Class 0: separators in no pattern (Sep); class 1: word bytes in no
	// pattern. Word-ness of a class decides the dead state.
	// The bytes of terms get classes in the order of byteRank, the space
	// and the commonest letters first, so that most transitions read the
	// first cache line of a row; rows are padded to whole cache lines.
	const otherClass, otherWordClass = 0, 1
	n := uint32(2)
	classWord := []bool{false, true}
	for b := 0; b < 256; b++ {
		switch {
		case wordByte[b]:
			a.class[b] = otherWordClass
		default:
			a.class[b] = otherClass
		}
	}
	for _, b := range byteRank {
		if !used[b] {
			continue
		}
		if n > 255 {
			return nil, fmt.Errorf("scan: terms use more than 254 distinct bytes")
		}
		a.class[b] = uint8(n)
		classWord = append(classWord, wordByte[b])
		n++
	}
	for n%16 != 0 && n < 256 { // unused classes: no byte maps to them
		classWord = append(classWord, false)
		n++
	}
	a.nclass = n

	// The trie is built straight into the dense table, -1 marking a
	// missing child; the dead state is added after the trie nodes.
	maxStates := 2
	for _, p := range pats {
		maxStates += len(p)
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
	parent := []int32{-1}
	for pi, p := range pats {
		if p == "" {
			continue
		}
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := a.class[p[i]]
			t := row(s)[c]
			if t < 0 {
				t = newRow()
				row(s)[c] = t
				parent = append(parent, s)
			}
			s = t
		}
		own[s] = append(own[s], int32(pi))
	}
	dead := newRow()
	ns := int(dead) + 1

	// Failure links breadth-first as usual, except that only suffixes
	// starting after a separator count. A missing transition of s is the
	// transition of fail(s); a row's -1 entries are filled when the row is
	// reached, so until then the others are its children.
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

	// Renumber states: the root, the dead state and the states one or two
	// bytes deep, where the scan spends most of its time, first, breadth-
	// first, so they share a few cache lines; then each deeper subtree
	// depth-first, so that the rows a word walks through lie one after
	// the other rather than across the whole table.
	order := layout(queue, parent, dead)
	if len(order) != ns {
		return nil, fmt.Errorf("scan: internal error: the table's layout placed %d of %d states", len(order), ns)
	}
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
		for _, p := range outs[s] {
			a.outs = append(a.outs, output{list: list[p], index: index[p], plen: int32(len(pats[p])), prefix: prefix[p]})
		}
	}
	return a, nil
}

// scan appends every word-bounded occurrence in buf to hits, in order of
// end offset. It does not allocate unless hits must grow.
func (a *automaton) scan(buf []byte, hits []Hit) []Hit {
	trans, class, n := a.trans, &a.class, a.nclass
	dead := n // the dead state is numbered 1, right after the root
	st := uint32(0)
	for i := 0; i < len(buf); i++ {
		if st == dead {
			// The rest of a word no term starts: skip it without the
			// dependent table loads.
			for i < len(buf) && wordByte[buf[i]] {
				i++
			}
			if i == len(buf) {
				break
			}
		}
		t := trans[st+uint32(class[buf[i]])]
		st = t &^ hasOutput
		if t&hasOutput == 0 {
			continue
		}
		s := st / n
		endsWord := i+1 == len(buf) || !wordByte[buf[i+1]]
		for k := a.outStart[s]; k < a.outStart[s+1]; k++ {
			o := &a.outs[k]
			if !endsWord && !o.prefix {
				continue
			}
			hits = append(hits, Hit{List: o.list, Index: o.index, Start: int32(i+1) - o.plen, End: int32(i + 1)})
		}
	}
	return hits
}

// layout orders the states for the table: the root, the dead state, the
// states at depth one and two breadth-first (queue is the trie's
// breadth-first order), then the subtrees below depth two in depth-first
// preorder. parent[s] is trie state s's parent.
func layout(queue, parent []int32, dead int32) []int32 {
	n := len(parent)
	depth := make([]int8, n)
	first := make([]int32, n+1) // children of s: kids[first[s]:first[s+1]]
	for _, s := range queue {
		d := depth[parent[s]]
		if d < 3 {
			d++
		}
		depth[s] = d
		first[parent[s]+1]++
	}
	for s := 1; s <= n; s++ {
		first[s] += first[s-1]
	}
	kids := make([]int32, len(queue))
	next := append([]int32(nil), first[:n]...)
	for _, s := range queue { // children in breadth-first (class) order
		p := parent[s]
		kids[next[p]] = s
		next[p]++
	}
	order := make([]int32, 0, n+1)
	order = append(order, 0, dead)
	for _, s := range queue {
		if depth[s] <= 2 {
			order = append(order, s)
		}
	}
	stack := make([]int32, 0, 64)
	for _, s := range queue {
		if depth[s] != 2 {
			continue
		}
		for i := first[s+1] - 1; i >= first[s]; i-- {
			stack = append(stack, kids[i])
		}
		for len(stack) > 0 {
			t := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			order = append(order, t)
			for i := first[t+1] - 1; i >= first[t]; i-- {
				stack = append(stack, kids[i])
			}
		}
	}
	return order
}

// byteRank lists every byte, the space and the letters of English text
// by frequency first, then the others in order.
var byteRank = func() []byte {
	const first = " etaoinsrhldcumfpgwybvk0123456789xjqz"
	out := []byte(first)
	for b := range 256 {
		if strings.IndexByte(first, byte(b)) < 0 {
			out = append(out, byte(b))
		}
	}
	return out
}()
