package query

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/newswatch/newswatch/pkg/scan"
)

// termWord is one word of a term with the rules for matching it. A word is
// one scan token, or two when scan splits an upper-case "US" into "u s".
type termWord struct {
	fold     string // normalised (lower-cased) form, as in scan.Doc.Buf
	orig     string // as written, NFKC: compared when caseSens
	caseSens bool
	// titleShape: the only capital is the first letter, so a sentence-initial
	// occurrence proves nothing (see the case rule in docs/queries.md).
	titleShape bool
	gap        scan.Gap // to the previous word: GapSpace, GapJoin or GapOther
	gapText    string   // for GapOther
}

// term is a word or phrase as the user wrote it, tokenised like the text
// by pkg/scan.
type term struct {
	text  string // NFKC, as written
	label string // reported in spans: the term, or the entity name
	scope scope
	id    int // index in Query.terms
	words []termWord
	// concat lets MQ-9B match MQ9B: dash-joined words written as one. It is
	// nil unless every gap of the term is a dash.
	concat []termWord
	// never: the term spans two lines and cannot match.
	never bool
}

func newTerm(raw string, s scope) *term {
	v := strings.TrimSpace(norm.NFKC.String(raw))
	var td scan.Doc
	td.Normalize(v, "")
	if len(td.Tokens) == 0 {
		return nil
	}
	t := &term{text: v, label: v, scope: s}
	if len(td.Sentences) > 1 {
		t.never = true
		return t
	}
	for i := range td.Tokens {
		tk := &td.Tokens[i]
		fold := string(td.Buf[tk.NStart:tk.NEnd])
		orig := td.Original(i)
		if tk.Gap == scan.GapSplit {
			w := &t.words[len(t.words)-1]
			w.fold += fold
			w.orig += orig
			continue
		}
		w := termWord{fold: fold, orig: orig, gap: tk.Gap}
		if i == 0 {
			w.gap = scan.GapNone
		} else if tk.Gap == scan.GapOther {
			w.gapText = td.GapText(i)
		}
		t.words = append(t.words, w)
	}
	allDash := len(t.words) > 1
	for i := range t.words {
		if i > 0 && t.words[i].gap != scan.GapJoin {
			allDash = false
		}
	}
	if allDash {
		c := termWord{}
		for _, w := range t.words {
			c.fold += w.fold
			c.orig += w.orig
		}
		t.concat = []termWord{c}
	}
	for _, ws := range [][]termWord{t.words, t.concat} {
		for i := range ws {
			w := &ws[i]
			switch s.cmode {
			case caseExact:
				w.caseSens = true
			case caseDefault:
				w.caseSens = hasUpper(w.orig)
				w.titleShape = w.caseSens && isTitleShape(w.orig)
			}
		}
	}
	return t
}

// key identifies what a term matches, to drop duplicate aliases and to
// share one matcher between the queries of a Set.
func (t *term) key() string {
	var b strings.Builder
	if t.never {
		return "never"
	}
	b.WriteByte(byte('0' + t.scope.field))
	for _, ws := range [][]termWord{t.words, t.concat} {
		b.WriteByte('|')
		for _, w := range ws {
			b.WriteString(strconv.Quote(w.fold))
			if w.caseSens {
				b.WriteString(strconv.Quote(w.orig))
			}
			if w.titleShape {
				b.WriteByte('T')
			}
			b.WriteByte(byte('0' + w.gap))
			b.WriteString(strconv.Quote(w.gapText))
		}
	}
	return b.String()
}

// patterns returns the normalised texts whose occurrences may be the term:
// the words as written and, for dash-joined words, written as one; a
// case-insensitive "us" also as scan's "u s" for an upper-case "US".
func (t *term) patterns() []string {
	if t.never {
		return nil
	}
	out := wordPatterns(t.words)
	if t.concat != nil {
		out = append(out, wordPatterns(t.concat)...)
	}
	return out
}

// maxSplitVariants bounds how many "us" words of one term get the "u s"
// variant: 2^3 patterns at most.
const maxSplitVariants = 3

func wordPatterns(ws []termWord) []string {
	pats := []string{""}
	split := 0
	for i, w := range ws {
		forms := []string{w.fold}
		if w.fold == "us" {
			switch {
			case w.caseSens && w.orig == "US":
				forms = []string{"u s"}
			case !w.caseSens && split < maxSplitVariants:
				forms = append(forms, "u s")
				split++
			}
		}
		next := make([]string, 0, len(pats)*len(forms))
		for _, p := range pats {
			for _, f := range forms {
				if i > 0 {
					next = append(next, p+" "+f)
				} else {
					next = append(next, f)
				}
			}
		}
		pats = next
	}
	return pats
}

// lowerPattern is the normalised first word when a sentence-initial
// occurrence may need the article's lower-case uses of it (usedLower), or "".
func (t *term) lowerPattern() string {
	if t.never || !t.words[0].titleShape {
		return ""
	}
	return t.words[0].fold
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

// occ is one occurrence of a term: tokens first..last of a scan.Doc.
type occ struct {
	first, last int32
	field       uint8
	weak        bool   // only capitalised because of its position
	label       string // set when the occurrence is reported
}

// matchWords reports whether the words ws occur at token p of d and, if so,
// the last token and whether the occurrence is weak. It does not allocate
// for ASCII text or for text already in NFKC.
func matchWords(d *scan.Doc, ws []termWord, p int) (last int, weak, ok bool) {
	toks := d.Tokens
	anyCase, strong := false, false
	for j := range ws {
		w := &ws[j]
		if p >= len(toks) {
			return 0, false, false
		}
		tk := &toks[p]
		if tk.Gap == scan.GapSplit {
			return 0, false, false // the "s" of "US" is no word
		}
		n := 1
		if p+1 < len(toks) && toks[p+1].Gap == scan.GapSplit {
			n = 2
		}
		if n == 1 {
			if string(d.Buf[tk.NStart:tk.NEnd]) != w.fold {
				return 0, false, false
			}
		} else {
			a, b := d.Buf[tk.NStart:tk.NEnd], d.Buf[toks[p+1].NStart:toks[p+1].NEnd]
			if len(a)+len(b) != len(w.fold) || string(a) != w.fold[:len(a)] || string(b) != w.fold[len(a):] {
				return 0, false, false
			}
		}
		if j > 0 {
			if tk.Sentence != toks[p-1].Sentence {
				return 0, false, false
			}
			switch w.gap {
			case scan.GapOther:
				if tk.Gap != scan.GapOther || !d.GapIs(p, w.gapText) {
					return 0, false, false
				}
			default:
				if tk.Gap != scan.GapSpace && tk.Gap != scan.GapJoin {
					return 0, false, false
				}
			}
		}
		if w.caseSens {
			var o string
			if n == 1 {
				o = d.Original(p)
			} else {
				o = d.Field(tk.Field)[tk.Start:toks[p+1].End]
			}
			if o != w.orig {
				return 0, false, false
			}
			anyCase = true
			if !w.titleShape || !d.SentenceStart(p) {
				strong = true
			}
		}
		p += n
	}
	return p - 1, anyCase && !strong, true
}
