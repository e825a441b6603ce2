package query

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// termWord is one word of a term with the rules for matching it.
type termWord struct {
	norm, fold string
	caseSens   bool
	// titleShape: the only capital is the first letter, so a sentence-initial
	// occurrence proves nothing (see the case rule in docs/queries.md).
	titleShape bool
	gap        gapKind // to the previous word: gapSpace, gapJoin or gapOther
	gapText    string  // for gapOther
}

// term is a word or phrase as the user wrote it, tokenised like the text.
type term struct {
	text  string // normalised, as written
	label string // reported in spans: the term, or the entity name
	scope scope
	words []termWord
	// concat lets MQ-9B match MQ9B: dash-joined words written as one.
	concatNorm, concatFold string
	concatCase             bool
}

func newTerm(raw string, s scope) *term {
	v := strings.TrimSpace(norm.NFKC.String(raw))
	toks := tokenize(v)
	if len(toks) == 0 {
		return nil
	}
	t := &term{text: v, label: v, scope: s, words: make([]termWord, len(toks))}
	allDash := len(toks) > 1
	for i, tk := range toks {
		w := termWord{norm: tk.norm, fold: tk.fold}
		switch s.cmode {
		case caseExact:
			w.caseSens = true
		case caseDefault:
			w.caseSens = hasUpper(tk.norm)
			w.titleShape = w.caseSens && isTitleShape(tk.norm)
		}
		if i > 0 {
			g := v[toks[i-1].end:tk.start]
			switch tk.gap {
			case gapOther:
				w.gap, w.gapText = gapOther, gapText(g)
				allDash = false
			case gapJoin:
				w.gap = gapJoin
			default:
				w.gap = gapSpace
				allDash = false
			}
		}
		t.words[i] = w
	}
	if allDash {
		var n strings.Builder
		for _, w := range t.words {
			n.WriteString(w.norm)
			t.concatCase = t.concatCase || w.caseSens
		}
		t.concatNorm = n.String()
		t.concatFold = strings.ToLower(t.concatNorm)
	}
	return t
}

// key identifies what a term matches, to drop duplicate aliases.
func (t *term) key() string {
	var b strings.Builder
	for _, w := range t.words {
		if w.caseSens {
			b.WriteString(w.norm)
		} else {
			b.WriteString(w.fold)
		}
		b.WriteByte(byte('0' + w.gap))
		b.WriteString(w.gapText)
	}
	return b.String()
}

func hasUpper(s string) bool {
	for _, r := range s {
		if unicode.IsUpper(r) || unicode.IsTitle(r) {
			return true
		}
	}
	return false
}

func isTitleShape(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return (unicode.IsUpper(r) || unicode.IsTitle(r)) && !hasUpper(s[n:])
}

// occ is one occurrence of a term: tokens first..last of a field.
type occ struct {
	t           *term
	field       uint8
	first, last int32
	weak        bool // only capitalised because of its position
}

func (w *termWord) matches(dt *token) bool {
	if w.caseSens {
		return dt.norm == w.norm
	}
	return dt.fold == w.fold
}

// find appends every occurrence of t in field f to out.
func (t *term) find(fi uint8, f *field, out []occ) []occ {
	w0 := &t.words[0]
	for _, p := range f.index[w0.fold] {
		if last, weak, ok := t.matchAt(f, int(p)); ok {
			out = append(out, occ{t: t, field: fi, first: p, last: int32(last), weak: weak})
		}
	}
	if t.concatFold != "" {
		for _, p := range f.index[t.concatFold] {
			dt := &f.toks[p]
			if t.concatCase && dt.norm != t.concatNorm {
				continue
			}
			weak := false
			if t.scope.cmode == caseDefault && dt.ambiguous {
				// Only a capital on the first word is explained by position.
				weak = t.words[0].titleShape
				for _, w := range t.words[1:] {
					if w.caseSens {
						weak = false
					}
				}
			}
			out = append(out, occ{t: t, field: fi, first: p, last: p, weak: weak})
		}
	}
	return out
}

func (t *term) matchAt(f *field, p int) (last int, weak bool, ok bool) {
	if p+len(t.words) > len(f.toks) {
		return 0, false, false
	}
	anyCase, strong := false, false
	for j := range t.words {
		w := &t.words[j]
		dt := &f.toks[p+j]
		if !w.matches(dt) {
			return 0, false, false
		}
		if j > 0 {
			if dt.sentStart {
				return 0, false, false
			}
			switch w.gap {
			case gapSpace, gapJoin:
				if dt.gap != gapSpace && dt.gap != gapJoin {
					return 0, false, false
				}
			case gapOther:
				if dt.gap != gapOther || gapText(f.src[f.toks[p+j-1].end:dt.start]) != w.gapText {
					return 0, false, false
				}
			}
		}
		if w.caseSens {
			anyCase = true
			if !w.titleShape || !dt.ambiguous {
				strong = true
			}
		}
	}
	return p + len(t.words) - 1, anyCase && !strong, true
}
