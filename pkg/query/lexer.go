package query

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/newswatch/newswatch/pkg/scan"
)

type tokType uint8

const (
	tEOF tokType = iota
	tWord
	tPhrase
	tLParen
	tRParen
	tComma
	tAnd
	tOr
	tNot
	tNear
	tSentence
	tField
	tScore
)

// qtok is one lexical token of a query; col is its 1-based rune column.
type qtok struct {
	typ tokType
	val string
	n   int     // NEAR distance
	op  string  // score comparison
	num float64 // score value
	col int
}

func (t qtok) describe() string {
	switch t.typ {
	case tEOF:
		return "end of query"
	case tWord:
		return fmt.Sprintf("%q", t.val)
	case tPhrase:
		return fmt.Sprintf("phrase %q", t.val)
	case tLParen:
		return "'('"
	case tRParen:
		return "')'"
	case tComma:
		return "','"
	case tAnd:
		return "AND"
	case tOr:
		return "OR"
	case tNot:
		return "NOT"
	case tNear:
		return fmt.Sprintf("NEAR/%d", t.n)
	case tSentence:
		return "SENTENCE"
	case tField:
		return t.val + ":"
	case tScore:
		return "score" + t.op
	}
	return "?"
}

// knownFields are the name: prefixes of the language.
var knownFields = map[string]bool{
	"title": true, "text": true, "case": true, "nocase": true, "entity": true,
	"topic": true, "source": true, "lang": true,
}

const knownFieldList = "title, text, case, nocase, entity, topic, source, lang"

func isOpenQuote(r rune) bool {
	return r == '"' || r == '“' || r == '„' || r == '”' || r == '＂'
}
func isCloseQuote(r rune) bool { return r == '"' || r == '”' || r == '“' || r == '＂' }

func endsBare(r rune) bool {
	return unicode.IsSpace(r) || r == '(' || r == ')' || r == ',' || isOpenQuote(r)
}

func lex(q string) ([]qtok, error) {
	rs := []rune(q)
	var out []qtok
	i := 0
	for i < len(rs) {
		r := rs[i]
		col := i + 1
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(':
			out = append(out, qtok{typ: tLParen, col: col})
			i++
		case r == ')':
			out = append(out, qtok{typ: tRParen, col: col})
			i++
		case r == ',':
			out = append(out, qtok{typ: tComma, col: col})
			i++
		case isOpenQuote(r):
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(rs) {
				c := rs[j]
				if c == '\\' && j+1 < len(rs) {
					b.WriteRune(rs[j+1])
					j += 2
					continue
				}
				if isCloseQuote(c) {
					closed = true
					break
				}
				b.WriteRune(c)
				j++
			}
			if !closed {
				return nil, &ParseError{Pos: col, Msg: `unterminated phrase: add the closing "`}
			}
			out = append(out, qtok{typ: tPhrase, val: b.String(), col: col})
			i = j + 1
		case r == '-' && i+1 < len(rs) && !unicode.IsSpace(rs[i+1]) && !scan.IsDash(rs[i+1]) && rs[i+1] != ')' && rs[i+1] != ',':
			// A leading minus is the usual web-search spelling of NOT.
			out = append(out, qtok{typ: tNot, val: "-", col: col})
			i++
		default:
			j := i
			for j < len(rs) && !endsBare(rs[j]) {
				j++
			}
			run := string(rs[i:j])
			t, next, err := lexBare(rs, run, i, j)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
			i = next
		}
	}
	out = append(out, qtok{typ: tEOF, col: len(rs) + 1})
	return out, nil
}

// lexBare classifies an unquoted run rs[i:j] and returns where lexing
// continues: after a field prefix it resumes right after the colon.
func lexBare(rs []rune, run string, i, j int) (qtok, int, error) {
	col := i + 1
	switch run {
	case "AND", "&&":
		return qtok{typ: tAnd, col: col}, j, nil
	case "OR", "||":
		return qtok{typ: tOr, col: col}, j, nil
	case "NOT":
		return qtok{typ: tNot, col: col}, j, nil
	case "SENTENCE":
		return qtok{typ: tSentence, col: col}, j, nil
	case "NEAR":
		return qtok{}, 0, &ParseError{Pos: col, Msg: "NEAR needs a distance in words, like NEAR/5(a, b)"}
	}
	if rest, ok := strings.CutPrefix(run, "NEAR/"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 || n > 1000 {
			return qtok{}, 0, &ParseError{Pos: col, Msg: "NEAR/n needs a whole number of words from 0 to 1000, like NEAR/5(a, b)"}
		}
		return qtok{typ: tNear, n: n, col: col}, j, nil
	}
	if len(run) >= 5 && strings.EqualFold(run[:5], "score") {
		k := i + 5
		for k < len(rs) && unicode.IsSpace(rs[k]) {
			k++
		}
		if k < len(rs) && (rs[k] == '<' || rs[k] == '>' || rs[k] == '=') && (len(run) == 5 || k == i+5) {
			return lexScore(rs, i, k)
		}
	}
	if c := strings.IndexByte(run, ':'); c > 0 {
		name := strings.ToLower(run[:c])
		if knownFields[name] {
			return qtok{typ: tField, val: name, col: col}, i + len([]rune(run[:c])) + 1, nil
		}
		if isIdent(name) {
			return qtok{}, 0, &ParseError{Pos: col, Msg: fmt.Sprintf("unknown field %q (known: %s); quote the text to search for it literally", run[:c], knownFieldList)}
		}
	}
	return qtok{typ: tWord, val: run, col: col}, j, nil
}

func isIdent(s string) bool {
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return s != ""
}

// lexScore reads "score OP NUMBER" with the operator at rs[k].
func lexScore(rs []rune, i, k int) (qtok, int, error) {
	col := i + 1
	op := string(rs[k])
	k++
	if k < len(rs) && rs[k] == '=' {
		op += "="
		k++
	}
	if op == "==" {
		op = "="
	}
	if op == "=" && k < len(rs) && (rs[k] == '<' || rs[k] == '>') {
		return qtok{}, 0, &ParseError{Pos: col, Msg: "score comparison must be one of >=, >, <=, <, ="}
	}
	for k < len(rs) && unicode.IsSpace(rs[k]) {
		k++
	}
	s := k
	for k < len(rs) && !endsBare(rs[k]) {
		k++
	}
	v, err := strconv.ParseFloat(string(rs[s:k]), 64)
	if err != nil || v != v {
		return qtok{}, 0, &ParseError{Pos: s + 1, Msg: "score needs a number, like score>=0.7"}
	}
	return qtok{typ: tScore, op: op, num: v, col: col}, k, nil
}
