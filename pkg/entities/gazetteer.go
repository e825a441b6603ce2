// Package entities finds the states, groupings, militant groups, weapon
// systems, companies and people an article names, under their canonical
// names, with the offset of every mention in the original text.
//
// The gazetteer ships in the binary (gazetteer.yaml) and is extended from the
// config file; docs/entities.md describes the format and the matching rules.
// Matching runs on a scan.Doc: the analyzer normalises an article once and
// scans it once for every dictionary, and FindDoc turns the gazetteer's hits
// into entities; Find does both for one article on its own.
package entities

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/scan"
)

// Gazetteer matches a fixed set of entities. It is built once by New and is
// safe for concurrent use.
type Gazetteer struct {
	entities []entity
	pats     []pattern   // pats[i] verifies the hits of terms[i]
	terms    []scan.Term // what the automaton looks for
	machine  *scan.Machine
	byName   map[string]int // folded normalised name or alias -> entity
	pool     sync.Pool      // *scratch
}

type entity struct {
	name, typ string
	names     []string // canonical name, then the declared aliases
}

// pattern is one spelling of a name. The automaton finds its normalised
// words; the pattern then checks what normalisation threw away: the case of
// a case-sensitive name and the punctuation between its words.
type pattern struct {
	entity int32
	ntok   int32
	// words are the name's tokens as written (NFKC), for a case-sensitive
	// name; nil when case folds.
	words []string
	gaps  []gap // gaps[k] separates token k and token k+1
	// trail is the punctuation the name ends with ("." of "U.S."), which a
	// mention takes in when the text has it too.
	trail string
}

type gapKind uint8

const (
	// gapWord is white space or a dash inside a word: "Al Qaeda" and
	// "Al-Qaeda" are one spelling.
	gapWord gapKind = iota
	// gapSplit is nothing: scan reads the word "US" as "u s".
	gapSplit
	// gapPunct is other punctuation (full stops, apostrophes, a dash set
	// off by spaces), which the text must repeat: "U.S.", "Al-Qa'ida".
	gapPunct
)

type gap struct {
	kind  gapKind
	punct string // for gapPunct, as scan.Doc.GapText folds it
}

type scratch struct {
	doc     scan.Doc // Find's article
	hits    []scan.Hit
	matches []match
	slot    []int32 // entity -> index in the result, -1 when absent
	counts  []int32 // mentions per result entity
}

// match is a verified occurrence: tokens first..last of the doc.
type match struct {
	entity       int32
	first, last  int32
	nstart, nend int32 // in Doc.Buf, for leftmost-longest
	trail        int32 // bytes of trailing punctuation after the last token
}

// New builds the gazetteer and compiles its own automaton. Entries with the
// same name (compared without case) are merged, so a config can add aliases
// to a shipped entity; a later non-empty type or case_sensitive wins. An
// alias that would name two entities is an error.
func New(entries []Entry) (*Gazetteer, error) {
	g := &Gazetteer{byName: map[string]int{}}
	index := map[string]int{}
	type spec struct {
		names []string
		cs    *bool
	}
	var specs []spec
	for i := range entries {
		e := &entries[i]
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("%w: entry %d %q: %w", ErrInvalidEntry, i+1, e.Name, err)
		}
		key := foldKey(e.Name)
		k, ok := index[key]
		if !ok {
			k = len(g.entities)
			index[key] = k
			g.entities = append(g.entities, entity{name: strings.TrimSpace(e.Name), typ: e.Type})
			specs = append(specs, spec{names: []string{e.Name}})
		}
		if e.Type != "" {
			g.entities[k].typ = e.Type
		}
		if e.CaseSensitive != nil {
			specs[k].cs = e.CaseSensitive
		}
		specs[k].names = append(specs[k].names, e.Aliases...)
	}

	for k, sp := range specs {
		seen := map[string]bool{}
		declared := map[string]bool{}
		for _, name := range sp.names {
			name = strings.TrimSpace(name)
			fk := foldKey(name)
			if other, ok := g.byName[fk]; ok && other != k {
				return nil, fmt.Errorf("%w: %q is an alias of both %q and %q", ErrDuplicateAlias, name, g.entities[other].name, g.entities[k].name)
			}
			g.byName[fk] = k
			if !declared[name] {
				declared[name] = true
				g.entities[k].names = append(g.entities[k].names, name)
			}
			// Aliases and Lookup also know a hyphenated name with spaces;
			// the automaton needs no variant, dashes being spaces to it.
			if v := strings.ReplaceAll(name, "-", " "); v != name {
				if vk := foldKey(v); vk != fk {
					if _, taken := g.byName[vk]; !taken {
						g.byName[vk] = k
					}
				}
			}
			cs := autoCaseSensitive(name)
			if sp.cs != nil {
				cs = *sp.cs
			}
			p, sig, ok := compilePattern(name, int32(k), cs)
			if !ok || seen[sig] {
				continue
			}
			seen[sig] = true
			g.pats = append(g.pats, p)
			g.terms = append(g.terms, scan.Term{Text: strings.Join(strings.Fields(name), " ")})
		}
	}
	m, err := scan.Compile(g.terms)
	if err != nil {
		return nil, fmt.Errorf("entities: compiling %d names: %w", len(g.terms), err)
	}
	g.machine = m
	// Sized for a long article so that a fresh scratch (the pool is
	// emptied by garbage collection) rarely grows.
	g.pool.New = func() any {
		return &scratch{hits: make([]scan.Hit, 0, 1024), matches: make([]match, 0, 512), counts: make([]int32, 0, 64)}
	}
	return g, nil
}

// compilePattern reads a name the way scan reads text and keeps what the
// automaton does not see. sig identifies what the pattern accepts, so that
// spellings the checks accept alike ("Al-Qaeda", "Al Qaeda") make one
// pattern. ok is false for a name without a word.
func compilePattern(name string, entity int32, cs bool) (p pattern, sig string, ok bool) {
	name = strings.Join(strings.Fields(name), " ") // a name is one line
	var d scan.Doc
	d.Normalize(name, "")
	if len(d.Tokens) == 0 {
		return p, "", false
	}
	p = pattern{entity: entity, ntok: int32(len(d.Tokens))}
	var b strings.Builder
	b.Write(bytes.TrimSuffix(d.Buf, []byte{scan.Sep}))
	if cs {
		b.WriteString("\x00cs")
	}
	for i := range d.Tokens {
		if cs {
			w := d.Original(i)
			p.words = append(p.words, w)
			b.WriteString("\x00" + w)
		}
		if i == 0 {
			continue
		}
		gp := gap{kind: gapPunct}
		switch t := &d.Tokens[i]; {
		case t.Gap == scan.GapSpace, t.Gap == scan.GapJoin && t.Word == d.Tokens[i-1].Word:
			gp.kind = gapWord
		case t.Gap == scan.GapSplit:
			gp.kind = gapSplit
		default:
			gp.punct = d.GapText(i)
		}
		p.gaps = append(p.gaps, gp)
		fmt.Fprintf(&b, "\x01%d%s", gp.kind, gp.punct)
	}
	p.trail = foldPunct(name[d.Tokens[len(d.Tokens)-1].End:])
	b.WriteString("\x02" + p.trail)
	return p, b.String(), true
}

// foldKey is how names are compared for Aliases, Lookup and duplicate
// detection: as pkg/scan reads them, so without case and punctuation
// between words ("U.S." and "US" are one key, as are "Al-Qaeda" and
// "Al Qaeda").
func foldKey(s string) string {
	k, err := scan.NormalizeTerm(s)
	if err != nil { // a name over two lines: compare its words
		return strings.Join(strings.Fields(strings.ToLower(s)), " ")
	}
	return k
}

// autoCaseSensitive reports whether an alias looks like an acronym or a
// brand with inner capitals (US, LeT, NATO, MQ-9B, BrahMos): folding its
// case would turn it into a common word ("us", "let") or a different name.
func autoCaseSensitive(alias string) bool {
	for _, word := range strings.Fields(alias) {
		upper := 0
		for _, r := range word {
			if 'A' <= r && r <= 'Z' {
				upper++
			}
		}
		if upper >= 2 {
			return true
		}
	}
	return false
}

// Terms returns what the gazetteer's automaton looks for, one term per
// spelling, in the order FindDoc expects as Hit.Index. The analyzer compiles
// them with the other dictionaries into one scan.Machine. They are fixed
// when the gazetteer is built; a new gazetteer needs a new machine.
func (g *Gazetteer) Terms() []scan.Term { return slices.Clone(g.terms) }

// Find returns the entities named in an article's title and text, in order
// of first mention (title first). Overlapping names resolve to the leftmost
// longest ("UN Security Council" rather than "UN"); mention offsets are byte
// offsets into the original title or text.
func (g *Gazetteer) Find(title, text string) []events.Entity {
	sc := g.pool.Get().(*scratch)
	defer g.pool.Put(sc)
	sc.doc.Normalize(title, text)
	sc.hits = g.machine.Scan(&sc.doc, sc.hits[:0])
	out := g.findDoc(&sc.doc, sc.hits, 0, sc)
	// Do not keep the article alive in the pool.
	sc.doc.Title, sc.doc.Text = "", ""
	return out
}

// FindDoc is Find on an article already normalised into d and scanned by a
// machine that was compiled with Terms() as its dictionary number list.
// Only hits of that list are read; d and hits are not modified. Besides the
// result it allocates nothing.
func (g *Gazetteer) FindDoc(d *scan.Doc, hits []scan.Hit, list int32) []events.Entity {
	sc := g.pool.Get().(*scratch)
	defer g.pool.Put(sc)
	return g.findDoc(d, hits, list, sc)
}

func (g *Gazetteer) findDoc(d *scan.Doc, hits []scan.Hit, list int32, sc *scratch) []events.Entity {
	sc.matches = g.match(d, hits, list, sc.matches[:0])
	if len(sc.matches) == 0 {
		return nil
	}

	// slot maps an entity to its index in out; it lives in the scratch and
	// is reset entry by entry, so there is no map per article. A first pass
	// numbers the entities and counts their mentions so that the result
	// takes two allocations however many mentions there are.
	if len(sc.slot) != len(g.entities) {
		sc.slot = make([]int32, len(g.entities))
		for i := range sc.slot {
			sc.slot[i] = -1
		}
	}
	slot, counts := sc.slot, sc.counts[:0]
	for _, m := range sc.matches {
		if slot[m.entity] < 0 {
			slot[m.entity] = int32(len(counts))
			counts = append(counts, 0)
		}
		counts[slot[m.entity]]++
	}
	sc.counts = counts
	out := make([]events.Entity, len(counts))
	mentions := make([]events.Mention, len(sc.matches))
	off := 0
	for _, m := range sc.matches {
		i := slot[m.entity]
		if out[i].Name == "" {
			e := &g.entities[m.entity]
			n := int(counts[i])
			out[i] = events.Entity{Name: e.name, Type: e.typ, Mentions: mentions[off : off : off+n]}
			off += n
		}
		first, last := &d.Tokens[m.first], &d.Tokens[m.last]
		field := "text"
		if first.Field == scan.FieldTitle {
			field = "title"
		}
		start, end := int(first.Start), int(last.End+m.trail)
		out[i].Mentions = append(out[i].Mentions, events.Mention{Field: field, Start: start, End: end, Text: d.Field(first.Field)[start:end]})
	}
	for _, m := range sc.matches {
		slot[m.entity] = -1
	}
	return out
}

// match appends to ms the verified hits of list, leftmost-longest, in
// order of position. It allocates only when ms must grow.
func (g *Gazetteer) match(d *scan.Doc, hits []scan.Hit, list int32, ms []match) []match {
	cur := d.Cursor() // hits come ordered by end, so their tokens come in order
	for _, h := range hits {
		if h.List != list || int(h.Index) >= len(g.pats) {
			continue // another dictionary's, or a machine not built from Terms
		}
		p := &g.pats[h.Index]
		first, last, ok := cur.Tokens(h)
		if !ok || last-first+1 != int(p.ntok) || !p.verify(d, first, last) {
			continue
		}
		ms = append(ms, match{
			entity: p.entity, first: int32(first), last: int32(last),
			nstart: h.Start, nend: h.End, trail: int32(p.trailAt(d, last)),
		})
	}
	// Hits arrive ordered by end; leftmost-longest wants start ascending,
	// longer first, then drops anything overlapping an earlier keeper.
	// Spellings of one span keep their order (stable sort).
	slices.SortStableFunc(ms, func(a, b match) int {
		if c := cmp.Compare(a.nstart, b.nstart); c != 0 {
			return c
		}
		return cmp.Compare(b.nend, a.nend)
	})
	kept, lastEnd := 0, int32(-1)
	for _, m := range ms {
		if m.nstart >= lastEnd {
			ms[kept] = m
			kept++
			lastEnd = m.nend
		}
	}
	return ms[:kept]
}

// verify checks what the automaton cannot see in tokens first..last: that
// they are whole words of the text, the punctuation between them and, for
// a case-sensitive name, their case.
func (p *pattern) verify(d *scan.Doc, first, last int) bool {
	toks := d.Tokens
	f := &toks[first]
	// A name does not start inside a word: not at the "s" of "India's"
	// ("S Jaishankar") or of "US". After a dash it may ("anti-US").
	if first > 0 && toks[first-1].Field == f.Field && toks[first-1].Word == f.Word && f.Gap != scan.GapJoin {
		return false
	}
	// Nor end at the "U" of "US". A possessive or a dash may follow.
	if last+1 < len(toks) && toks[last+1].Gap == scan.GapSplit {
		return false
	}
	for k, gp := range p.gaps {
		i := first + k + 1
		t := &toks[i]
		switch {
		case t.Gap == scan.GapSpace, t.Gap == scan.GapJoin && t.Word == toks[i-1].Word:
			if gp.kind != gapWord {
				return false
			}
		case t.Gap == scan.GapSplit:
			if gp.kind != gapSplit {
				return false
			}
		default:
			if gp.kind != gapPunct || !d.GapIs(i, gp.punct) {
				return false
			}
		}
	}
	for k, w := range p.words {
		if !writtenAs(d, first+k, w) {
			return false
		}
	}
	return true
}

// trailAt returns how many bytes of the text after token last repeat the
// punctuation the name ends with, or 0.
func (p *pattern) trailAt(d *scan.Doc, last int) int {
	if p.trail == "" {
		return 0
	}
	t := &d.Tokens[last]
	s := d.Field(t.Field)[t.End:]
	if n := punctPrefix(s, p.trail); n > 0 {
		return n
	}
	return 0
}

// Aliases returns the canonical name and every declared alias of the entity
// named by name, which may be its canonical name or any alias, compared
// without case. It returns nil for a name the gazetteer does not know.
func (g *Gazetteer) Aliases(name string) []string {
	k, ok := g.byName[foldKey(name)]
	if !ok {
		return nil
	}
	return slices.Clone(g.entities[k].names)
}

// Lookup returns the canonical name and type of the entity that name (a
// canonical name or alias, compared without case) refers to.
func (g *Gazetteer) Lookup(name string) (canonical, typ string, ok bool) {
	k, ok := g.byName[foldKey(name)]
	if !ok {
		return "", "", false
	}
	return g.entities[k].name, g.entities[k].typ, true
}
