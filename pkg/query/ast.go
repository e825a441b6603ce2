package query

import (
	"strconv"
	"strings"

	"github.com/newswatch/newswatch/pkg/scan"
)

// node is a query AST node. eval reports whether the document satisfies it
// and, when collect is set, appends the spans that made it true.
type node interface {
	eval(ec *evalCtx, collect bool) bool
	write(b *strings.Builder)
	prec() int
}

// positional nodes have occurrences in the text, so NEAR and SENTENCE can
// measure distances between them. appendOccs appends them, labelled.
type positional interface {
	node
	appendOccs(ec *evalCtx, dst []occ) []occ
}

const (
	precOr = iota
	precAnd
	precNot
	precAtom
)

type orNode struct{ kids []node }
type andNode struct{ kids []node }
type notNode struct{ kid node }
type termNode struct{ t *term }
type entityNode struct {
	name  string
	scope scope
	terms []*term
}

// proxNode is NEAR/n(a, b) or, with n < 0, SENTENCE(a, b).
type proxNode struct {
	a, b positional
	n    int
}

type filterNode struct{ kind, val string }

// scoreNode compares the score of the topics the query names with topic:,
// or of the best-scoring topic when it names none.
type scoreNode struct {
	op     string
	v      float64
	topics []string
}

func newOr(kids []node) node {
	var flat []node
	for _, k := range kids {
		if o, ok := k.(*orNode); ok {
			flat = append(flat, o.kids...)
		} else {
			flat = append(flat, k)
		}
	}
	return &orNode{kids: flat}
}

func newAnd(kids []node) node {
	var flat []node
	for _, k := range kids {
		if a, ok := k.(*andNode); ok {
			flat = append(flat, a.kids...)
		} else {
			flat = append(flat, k)
		}
	}
	return &andNode{kids: flat}
}

func asPositional(n node) (positional, bool) {
	switch v := n.(type) {
	case *termNode:
		return v, true
	case *entityNode:
		return v, true
	case *orNode:
		for _, k := range v.kids {
			if _, ok := asPositional(k); !ok {
				return nil, false
			}
		}
		return v, true
	}
	return nil, false
}

func (n *orNode) prec() int     { return precOr }
func (n *andNode) prec() int    { return precAnd }
func (n *notNode) prec() int    { return precNot }
func (n *termNode) prec() int   { return precAtom }
func (n *entityNode) prec() int { return precAtom }
func (n *proxNode) prec() int   { return precAtom }
func (n *filterNode) prec() int { return precAtom }
func (n *scoreNode) prec() int  { return precAtom }

func writeKid(b *strings.Builder, k node, min int) {
	if k.prec() < min {
		b.WriteByte('(')
		k.write(b)
		b.WriteByte(')')
		return
	}
	k.write(b)
}

func (n *orNode) write(b *strings.Builder) {
	for i, k := range n.kids {
		if i > 0 {
			b.WriteString(" OR ")
		}
		writeKid(b, k, precAnd)
	}
}

func (n *andNode) write(b *strings.Builder) {
	for i, k := range n.kids {
		if i > 0 {
			b.WriteString(" AND ")
		}
		writeKid(b, k, precNot)
	}
}

func (n *notNode) write(b *strings.Builder) {
	b.WriteString("NOT ")
	writeKid(b, n.kid, precNot)
}

func writeScope(b *strings.Builder, s scope) {
	switch s.field {
	case onlyTitle:
		b.WriteString("title:")
	case onlyText:
		b.WriteString("text:")
	}
	switch s.cmode {
	case caseExact:
		b.WriteString("case:")
	case caseNone:
		b.WriteString("nocase:")
	}
}

func (n *termNode) write(b *strings.Builder) {
	writeScope(b, n.t.scope)
	writeValue(b, n.t.text)
}

func (n *entityNode) write(b *strings.Builder) {
	writeScope(b, n.scope)
	b.WriteString("entity:")
	writeValue(b, n.name)
}

func (n *proxNode) write(b *strings.Builder) {
	if n.n < 0 {
		b.WriteString("SENTENCE(")
	} else {
		b.WriteString("NEAR/")
		b.WriteString(strconv.Itoa(n.n))
		b.WriteByte('(')
	}
	n.a.write(b)
	b.WriteString(", ")
	n.b.write(b)
	b.WriteByte(')')
}

func (n *filterNode) write(b *strings.Builder) {
	b.WriteString(n.kind)
	b.WriteByte(':')
	writeValue(b, n.val)
}

func (n *scoreNode) write(b *strings.Builder) {
	b.WriteString("score")
	b.WriteString(n.op)
	b.WriteString(strconv.FormatFloat(n.v, 'g', -1, 64))
}

// writeValue writes v bare when it would lex back as the same single word,
// quoted otherwise.
func writeValue(b *strings.Builder, v string) {
	if bareSafe(v) {
		b.WriteString(v)
		return
	}
	b.WriteByte('"')
	for _, r := range v {
		if r == '\\' || isOpenQuote(r) || isCloseQuote(r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
}

func bareSafe(v string) bool {
	switch v {
	case "", "AND", "OR", "NOT", "SENTENCE", "NEAR", "&&", "||":
		return false
	}
	if strings.HasPrefix(v, "NEAR/") || len(v) >= 5 && strings.EqualFold(v[:5], "score") {
		return false
	}
	for i, r := range v {
		if scan.IsWordRune(r) || r == '-' && i > 0 {
			continue
		}
		return false
	}
	return true
}
