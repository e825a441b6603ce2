package query

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/text/unicode/norm"

	"github.com/newswatch/newswatch/pkg/scan"
)

// ErrSyntax is wrapped by every *ParseError.
var ErrSyntax = errors.New("query: syntax error")

// ParseError is a syntax error at a 1-based rune column of the query.
type ParseError struct {
	Pos int
	Msg string
}

func (e *ParseError) Error() string { return fmt.Sprintf("query: column %d: %s", e.Pos, e.Msg) }

// Unwrap lets callers test errors.Is(err, ErrSyntax).
func (e *ParseError) Unwrap() error { return ErrSyntax }

// Option configures Parse.
type Option func(*options)

type options struct {
	aliases  func(name string) []string
	maxSpans int
}

// DefaultMaxSpans is how many occurrences of one term Match reports; an
// alert needs a few snippets, not every mention in a long article.
const DefaultMaxSpans = 5

// WithAliases resolves entity:"X" to every alias of X, for example
// pkg/entities' Gazetteer.Aliases. Without it entity:"X" matches X and its
// dash variants only.
func WithAliases(f func(name string) []string) Option {
	return func(o *options) { o.aliases = f }
}

// WithMaxSpans sets how many occurrences of each term Match reports
// (DefaultMaxSpans by default; n <= 0 means all of them).
func WithMaxSpans(n int) Option {
	return func(o *options) { o.maxSpans = n }
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 100

// Query is a parsed watch query. It is immutable and safe for concurrent use.
type Query struct {
	root     node
	maxSpans int
	terms    []*term // every term, entity aliases included; term.id indexes it

	// The query as a Set of one with its own machine, for Match.
	once    sync.Once
	set     *Set
	machine *scan.Machine
	small   *smallScan // used instead of machine for a few patterns
	need    need       // checked before normalising a Doc (prefilter.go)
	noNeed  bool       // tests: never skip normalising
}

// Parse parses a watch query. Syntax errors are *ParseError values that
// wrap ErrSyntax.
func Parse(q string, opts ...Option) (*Query, error) {
	o := options{maxSpans: DefaultMaxSpans}
	for _, opt := range opts {
		opt(&o)
	}
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, opts: &o, topics: map[string]bool{}}
	if p.peek().typ == tEOF {
		return nil, &ParseError{Pos: 1, Msg: "empty query: write a word or \"a phrase\""}
	}
	root, err := p.parseOr(scope{}, 0)
	if err != nil {
		return nil, err
	}
	switch t := p.peek(); t.typ {
	case tEOF:
	case tRParen:
		return nil, &ParseError{Pos: t.col, Msg: "unbalanced ')': no '(' to close"}
	case tComma:
		return nil, &ParseError{Pos: t.col, Msg: "',' is only used between the arguments of NEAR/n(a, b) and SENTENCE(a, b)"}
	default:
		return nil, &ParseError{Pos: t.col, Msg: "unexpected " + t.describe()}
	}
	if len(p.scores) > 0 {
		names := make([]string, 0, len(p.topics))
		for n := range p.topics {
			names = append(names, n)
		}
		for _, s := range p.scores {
			s.topics = names
		}
	}
	max := o.maxSpans
	if max <= 0 {
		max = int(^uint(0) >> 1)
	}
	return &Query{root: root, maxSpans: max, terms: p.terms}, nil
}

// String returns the canonical form of the query: explicit AND, operators
// in capitals, minimal parentheses. Parsing it gives the same query.
func (q *Query) String() string {
	var b strings.Builder
	q.root.write(&b)
	return b.String()
}

// scope carries the field and case modifiers that apply to a term.
type scope struct {
	field caseField
	cmode caseMode
}

type caseField uint8

const (
	anyField caseField = iota
	onlyTitle
	onlyText
)

type caseMode uint8

const (
	caseDefault caseMode = iota // capitals make a word case-sensitive
	caseExact                   // case: every word exactly as written
	caseNone                    // nocase: any case
)

type parser struct {
	toks   []qtok
	i      int
	opts   *options
	topics map[string]bool
	scores []*scoreNode
	terms  []*term
}

func (p *parser) peek() qtok { return p.toks[p.i] }
func (p *parser) next() qtok {
	t := p.toks[p.i]
	if t.typ != tEOF {
		p.i++
	}
	return t
}

func startsOperand(t tokType) bool {
	switch t {
	case tWord, tPhrase, tLParen, tNot, tNear, tSentence, tField, tScore:
		return true
	}
	return false
}

func (p *parser) parseOr(s scope, depth int) (node, error) {
	if depth > maxDepth {
		return nil, &ParseError{Pos: p.peek().col, Msg: fmt.Sprintf("query nests deeper than %d levels", maxDepth)}
	}
	first, err := p.parseAnd(s, depth)
	if err != nil {
		return nil, err
	}
	kids := []node{first}
	for p.peek().typ == tOr {
		op := p.next()
		if !startsOperand(p.peek().typ) {
			return nil, p.expected("OR", op)
		}
		n, err := p.parseAnd(s, depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return newOr(kids), nil
}

func (p *parser) parseAnd(s scope, depth int) (node, error) {
	first, err := p.parseUnary(s, depth)
	if err != nil {
		return nil, err
	}
	kids := []node{first}
	for {
		t := p.peek()
		if t.typ == tAnd {
			p.next()
			if !startsOperand(p.peek().typ) {
				return nil, p.expected("AND", t)
			}
		} else if !startsOperand(t.typ) {
			break
		}
		n, err := p.parseUnary(s, depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return newAnd(kids), nil
}

func (p *parser) expected(after string, op qtok) error {
	t := p.peek()
	return &ParseError{Pos: t.col, Msg: fmt.Sprintf("%s at column %d needs a word, phrase or '(' after it, found %s", after, op.col, t.describe())}
}

func (p *parser) parseUnary(s scope, depth int) (node, error) {
	if p.peek().typ == tNot {
		op := p.next()
		if !startsOperand(p.peek().typ) {
			return nil, p.expected("NOT", op)
		}
		if depth > maxDepth {
			return nil, &ParseError{Pos: op.col, Msg: fmt.Sprintf("query nests deeper than %d levels", maxDepth)}
		}
		kid, err := p.parseUnary(s, depth+1)
		if err != nil {
			return nil, err
		}
		return &notNode{kid: kid}, nil
	}
	return p.parsePrimary(s, depth)
}

func (p *parser) parsePrimary(s scope, depth int) (node, error) {
	t := p.peek()
	switch t.typ {
	case tWord, tPhrase:
		p.next()
		tm, err := p.makeTerm(t.val, s, t.col)
		if err != nil {
			return nil, err
		}
		return &termNode{t: tm}, nil
	case tLParen:
		return p.parseGroup(s, depth)
	case tField:
		return p.parseField(s, depth)
	case tNear, tSentence:
		return p.parseProximity(s, depth)
	case tScore:
		p.next()
		n := &scoreNode{op: t.op, v: t.num}
		p.scores = append(p.scores, n)
		return n, nil
	case tRParen:
		return nil, &ParseError{Pos: t.col, Msg: "expected a word, phrase or '(' but found ')'"}
	case tComma:
		return nil, &ParseError{Pos: t.col, Msg: "',' is only used between the arguments of NEAR/n(a, b) and SENTENCE(a, b)"}
	case tEOF:
		return nil, &ParseError{Pos: t.col, Msg: "query ends where a word, phrase or '(' was expected"}
	}
	return nil, &ParseError{Pos: t.col, Msg: "expected a word, phrase or '(' but found " + t.describe()}
}

func (p *parser) parseGroup(s scope, depth int) (node, error) {
	open := p.next()
	if p.peek().typ == tRParen {
		return nil, &ParseError{Pos: p.peek().col, Msg: "empty parentheses: put a word or phrase inside"}
	}
	n, err := p.parseOr(s, depth+1)
	if err != nil {
		return nil, err
	}
	switch t := p.peek(); t.typ {
	case tRParen:
		p.next()
		return n, nil
	case tComma:
		return nil, &ParseError{Pos: t.col, Msg: "',' is only used between the arguments of NEAR/n(a, b) and SENTENCE(a, b)"}
	default:
		return nil, &ParseError{Pos: open.col, Msg: "unclosed '(': add a ')'"}
	}
}

func (p *parser) parseField(s scope, depth int) (node, error) {
	f := p.next()
	switch f.val {
	case "title", "text":
		want := onlyTitle
		if f.val == "text" {
			want = onlyText
		}
		if s.field != anyField && s.field != want {
			return nil, &ParseError{Pos: f.col, Msg: f.val + ": inside another field; a term is in the title or in the text, not both"}
		}
		s.field = want
		return p.parseModified(f, s, depth)
	case "case", "nocase":
		s.cmode = caseExact
		if f.val == "nocase" {
			s.cmode = caseNone
		}
		return p.parseModified(f, s, depth)
	}
	v := p.peek()
	if v.typ != tWord && v.typ != tPhrase {
		return nil, &ParseError{Pos: v.col, Msg: fmt.Sprintf("%s: needs a value right after it, like %s", f.val, fieldExample[f.val])}
	}
	p.next()
	val := strings.TrimSpace(norm.NFKC.String(v.val))
	if val == "" {
		return nil, &ParseError{Pos: v.col, Msg: fmt.Sprintf("%s: needs a non-empty value, like %s", f.val, fieldExample[f.val])}
	}
	switch f.val {
	case "entity":
		return p.makeEntity(val, s, v.col)
	case "topic":
		p.topics[strings.ToLower(val)] = true
		return &filterNode{kind: "topic", val: strings.ToLower(val)}, nil
	case "source":
		return &filterNode{kind: "source", val: strings.ToLower(val)}, nil
	default: // lang
		return &filterNode{kind: "lang", val: strings.ToLower(val)}, nil
	}
}

var fieldExample = map[string]string{
	"title": `title:Quad or title:"MQ-9B deal"`, "text": `text:drone`,
	"case": "case:quad", "nocase": "nocase:Quad", "entity": `entity:"MQ-9B"`,
	"topic": "topic:terrorism", "source": "source:livemint", "lang": "lang:en",
}

// parseModified parses what follows title:, text:, case: or nocase:.
func (p *parser) parseModified(f qtok, s scope, depth int) (node, error) {
	switch t := p.peek(); t.typ {
	case tWord, tPhrase:
		p.next()
		tm, err := p.makeTerm(t.val, s, t.col)
		if err != nil {
			return nil, err
		}
		return &termNode{t: tm}, nil
	case tLParen:
		return p.parseGroup(s, depth)
	case tField:
		if depth > maxDepth {
			return nil, &ParseError{Pos: t.col, Msg: fmt.Sprintf("query nests deeper than %d levels", maxDepth)}
		}
		return p.parseField(s, depth+1)
	case tNear, tSentence:
		return p.parseProximity(s, depth)
	default:
		return nil, &ParseError{Pos: t.col, Msg: fmt.Sprintf("%s: needs a word, phrase or (group) right after it, like %s", f.val, fieldExample[f.val])}
	}
}

func (p *parser) parseProximity(s scope, depth int) (node, error) {
	kw := p.next()
	name := kw.describe()
	if t := p.peek(); t.typ != tLParen {
		return nil, &ParseError{Pos: t.col, Msg: name + " must be followed by (a, b)"}
	}
	p.next()
	args := make([]positional, 0, 2)
	for k := 0; k < 2; k++ {
		t := p.peek()
		n, err := p.parseOr(s, depth+1)
		if err != nil {
			return nil, err
		}
		pn, ok := asPositional(n)
		if !ok {
			return nil, &ParseError{Pos: t.col, Msg: name + " arguments must be words, phrases or entity: terms, or ORs of them"}
		}
		args = append(args, pn)
		sep := p.peek()
		if k == 0 && sep.typ != tComma {
			return nil, &ParseError{Pos: sep.col, Msg: name + " needs two arguments separated by ',': " + name + "(a, b)"}
		}
		if k == 1 && sep.typ != tRParen {
			return nil, &ParseError{Pos: sep.col, Msg: name + " takes exactly two arguments; close it with ')'"}
		}
		p.next()
	}
	n := &proxNode{a: args[0], b: args[1], n: kw.n}
	if kw.typ == tSentence {
		n.n = -1
	}
	return n, nil
}

func (p *parser) makeTerm(raw string, s scope, col int) (*term, error) {
	t := newTerm(raw, s)
	if t == nil {
		return nil, &ParseError{Pos: col, Msg: fmt.Sprintf("%q has no letters or digits to match", raw)}
	}
	p.addTerm(t)
	return t, nil
}

func (p *parser) addTerm(t *term) {
	t.id = len(p.terms)
	p.terms = append(p.terms, t)
}

func (p *parser) makeEntity(name string, s scope, col int) (node, error) {
	e := &entityNode{name: name, scope: s}
	seen := map[string]bool{}
	add := func(v string) {
		t := newTerm(v, s)
		if t == nil {
			return
		}
		key := t.key()
		if seen[key] {
			return
		}
		seen[key] = true
		t.label = name
		p.addTerm(t)
		e.terms = append(e.terms, t)
	}
	add(name)
	if len(e.terms) == 0 {
		return nil, &ParseError{Pos: col, Msg: fmt.Sprintf("entity %q has no letters or digits to match", name)}
	}
	if p.opts.aliases != nil {
		for _, a := range p.opts.aliases(name) {
			add(a)
		}
	}
	return e, nil
}
