// Package entities finds the states, groupings, militant groups, weapon
// systems, companies and people an article names, under their canonical
// names, with the offset of every mention in the original text.
//
// The gazetteer ships in the binary (gazetteer.yaml) and is extended from the
// config file; docs/entities.md describes the format and the matching rules.
package entities

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/textnorm"
)

// Gazetteer matches a fixed set of entities. It is built once by New and is
// safe for concurrent use.
type Gazetteer struct {
	entities []entity
	pats     []pattern
	ac       *automaton
	byName   map[string]int // folded normalised name or alias -> entity
	pool     sync.Pool      // *scratch
}

type entity struct {
	name, typ string
	names     []string // canonical name, then the declared aliases
}

type pattern struct {
	entity int
	// exact is the normalised alias; a case-sensitive pattern matches only
	// text with these exact bytes, the others only need equal ASCII folds.
	exact         string
	caseSensitive bool
	// edge word flags: the word-boundary test applies only to an edge that
	// is itself a word character, so "U.S." may be followed by a letter.
	wordStart, wordEnd bool
}

type scratch struct {
	hits    []hit
	matches []match
	slot    []int32 // entity -> index in Find's result, -1 when absent
	counts  []int32 // mentions per result entity
}

type match struct {
	entity     int
	start, end int // normalised offsets
	field      int // 0 title, 1 text
}

// New builds the gazetteer's automaton. Entries with the same name (compared
// without case) are merged, so a config can add aliases to a shipped entity;
// a later non-empty type or case_sensitive wins. An alias that would name two
// entities is an error.
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

	var keys []string
	type patKey struct {
		exact string
		cs    bool
	}
	for k, sp := range specs {
		seen := map[patKey]bool{}
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
			cs := autoCaseSensitive(name)
			if sp.cs != nil {
				cs = *sp.cs
			}
			for _, v := range variants(name) {
				if vk := foldKey(v); vk != fk {
					if _, taken := g.byName[vk]; !taken {
						g.byName[vk] = k
					}
				}
				exact := textnorm.Normalize(v, textnorm.CollapseSpace).String()
				pk := patKey{exact, cs}
				if exact == "" || seen[pk] {
					continue
				}
				seen[pk] = true
				g.pats = append(g.pats, pattern{
					entity:        k,
					exact:         exact,
					caseSensitive: cs,
					wordStart:     textnorm.WordAfter(exact, 0),
					wordEnd:       textnorm.WordBefore(exact, len(exact)),
				})
				keys = append(keys, exact)
			}
		}
	}
	g.ac = buildAutomaton(keys)
	// Sized for a long article so that a fresh scratch (the pool is
	// emptied by garbage collection) rarely grows.
	g.pool.New = func() any {
		return &scratch{hits: make([]hit, 0, 1024), matches: make([]match, 0, 512), counts: make([]int32, 0, 64)}
	}
	return g, nil
}

// foldKey is how names are compared for Aliases and duplicate detection.
func foldKey(s string) string {
	return textnorm.Normalize(strings.TrimSpace(s), textnorm.FoldCase, textnorm.CollapseSpace).String()
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

// variants returns the spellings an alias is matched under: itself and,
// for hyphenated names, the same with spaces ("Al-Qaeda", "Al Qaeda").
func variants(alias string) []string {
	if !strings.Contains(alias, "-") {
		return []string{alias}
	}
	return []string{alias, strings.ReplaceAll(alias, "-", " ")}
}

// Find returns the entities named in an article's title and text, in order
// of first mention (title first). Overlapping names resolve to the leftmost
// longest ("UN Security Council" rather than "UN"); mention offsets are byte
// offsets into the original title or text.
func (g *Gazetteer) Find(title, text string) []events.Entity {
	sc := g.pool.Get().(*scratch)
	defer g.pool.Put(sc)
	sc.matches = sc.matches[:0]

	tt := textnorm.Normalize(title, textnorm.CollapseSpace)
	bt := textnorm.Normalize(text, textnorm.CollapseSpace)
	sc.matches = g.find(tt.String(), 0, sc, sc.matches)
	sc.matches = g.find(bt.String(), 1, sc, sc.matches)
	if len(sc.matches) == 0 {
		return nil
	}

	// slot maps an entity to its index in out; it lives in the scratch and
	// is reset entry by entry, so Find does not allocate a map per article.
	// A first pass numbers the entities and counts their mentions so that
	// the result takes two allocations however many mentions there are.
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
		src, field, orig := tt, "title", title
		if m.field == 1 {
			src, field, orig = bt, "text", text
		}
		start, end := src.Span(m.start, m.end)
		out[i].Mentions = append(out[i].Mentions, events.Mention{Field: field, Start: start, End: end, Text: orig[start:end]})
	}
	for _, m := range sc.matches {
		slot[m.entity] = -1
	}
	return out
}

// find appends the leftmost-longest, word-bounded matches in normalised
// text s to ms.
func (g *Gazetteer) find(s string, field int, sc *scratch, ms []match) []match {
	sc.hits = g.ac.scan(s, sc.hits[:0])
	first := len(ms)
	for _, h := range sc.hits {
		p := &g.pats[h.pat]
		end := int(h.end)
		start := end - len(p.exact)
		if p.caseSensitive && s[start:end] != p.exact {
			continue
		}
		if p.wordStart && textnorm.WordBefore(s, start) || p.wordEnd && textnorm.WordAfter(s, end) {
			continue
		}
		ms = append(ms, match{entity: p.entity, start: start, end: end, field: field})
	}
	found := ms[first:]
	// Hits arrive ordered by end; leftmost-longest wants start ascending,
	// longer first, then drops anything overlapping an earlier keeper.
	slices.SortFunc(found, func(a, b match) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(b.end, a.end)
	})
	kept, lastEnd := first, -1
	for _, m := range found {
		if m.start >= lastEnd {
			ms[kept] = m
			kept++
			lastEnd = m.end
		}
	}
	return ms[:kept]
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
