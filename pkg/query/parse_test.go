package query_test

import (
	"errors"
	"testing"

	"github.com/newswatch/newswatch/pkg/query"
)

func TestParseString(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"word", "Quad", "Quad"},
		{"implicit AND", `"MQ-9B" Quad`, "MQ-9B AND Quad"},
		{"phrase", `"Quad  summit"`, `"Quad  summit"`},
		{"curly phrase", `“Quad summit”`, `"Quad summit"`},
		{"escaped quote", `"say \"hi\""`, `"say \"hi\""`},
		{"precedence", "a OR b c", "a OR b AND c"},
		{"parens kept where needed", "(a OR b) c", "(a OR b) AND c"},
		{"parens dropped where not", "(a b) OR c", "a AND b OR c"},
		{"flatten", "a OR (b OR c)", "a OR b OR c"},
		{"NOT", "NOT a b", "NOT a AND b"},
		{"NOT group", "NOT (a OR b)", "NOT (a OR b)"},
		{"minus", "a -b", "a AND NOT b"},
		{"symbols", "a && b || c", "a AND b OR c"},
		{"NEAR", "NEAR/5(drone,  India)", "NEAR/5(drone, India)"},
		{"NEAR OR arg", "NEAR/5(drone OR uav, India)", "NEAR/5(drone OR uav, India)"},
		{"SENTENCE", "SENTENCE(a,b)", "SENTENCE(a, b)"},
		{"fields", `title:"MQ-9B deal" text:Quad`, `title:"MQ-9B deal" AND text:Quad`},
		{"field group", "title:(a OR b)", "title:a OR title:b"},
		{"case", "case:quad nocase:Quad", "case:quad AND nocase:Quad"},
		{"field and case", "title:case:(quad)", "title:case:quad"},
		{"entity", `entity:"MQ-9B" entity:"Predator B"`, `entity:MQ-9B AND entity:"Predator B"`},
		{"filters", "topic:Terrorism source:LiveMint lang:EN score>=0.70", "topic:terrorism AND source:livemint AND lang:en AND score>=0.7"},
		{"score spaces", "score >= 1 score<0.5 score=0.2 score==0.3", "score>=1 AND score<0.5 AND score=0.2 AND score=0.3"},
		{"keyword quoted", `"AND" "NEAR/3" "score"`, `"AND" AND "NEAR/3" AND "score"`},
		{"lower-case keywords are words", "and or not", "and AND or AND not"},
		{"unknown colon word", "12:30", `"12:30"`},
		{"NFKC", "ＭＱ－９Ｂ", "MQ-9B"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := query.Parse(c.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.in, err)
			}
			if got := q.String(); got != c.want {
				t.Fatalf("String() = %s, want %s", got, c.want)
			}
			again, err := query.Parse(q.String())
			if err != nil {
				t.Fatalf("canonical form %q does not parse: %v", q.String(), err)
			}
			if again.String() != q.String() {
				t.Errorf("canonical form not stable: %q -> %q", q.String(), again.String())
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, in string
		col      int
		msg      string
	}{
		{"empty", "   ", 1, `empty query: write a word or "a phrase"`},
		{"unterminated phrase", `Quad "MQ-9B`, 6, `unterminated phrase: add the closing "`},
		{"dangling AND", "Quad AND", 9, "AND at column 6 needs a word, phrase or '(' after it, found end of query"},
		{"AND OR", "Quad AND OR b", 10, "AND at column 6 needs a word, phrase or '(' after it, found OR"},
		{"leading OR", "OR Quad", 1, "expected a word, phrase or '(' but found OR"},
		{"dangling NOT", "Quad NOT", 9, "NOT at column 6 needs a word, phrase or '(' after it, found end of query"},
		{"unclosed paren", "(Quad OR b", 1, "unclosed '(': add a ')'"},
		{"unbalanced paren", "Quad)", 5, "unbalanced ')': no '(' to close"},
		{"empty parens", "Quad ()", 7, "empty parentheses: put a word or phrase inside"},
		{"stray comma", "Quad, India", 5, "',' is only used between the arguments of NEAR/n(a, b) and SENTENCE(a, b)"},
		{"NEAR without distance", "NEAR(a, b)", 1, "NEAR needs a distance in words, like NEAR/5(a, b)"},
		{"NEAR bad distance", "NEAR/x(a, b)", 1, "NEAR/n needs a whole number of words from 0 to 1000, like NEAR/5(a, b)"},
		{"NEAR without parens", "NEAR/3 a b", 8, "NEAR/3 must be followed by (a, b)"},
		{"NEAR one arg", "NEAR/3(a)", 9, "NEAR/3 needs two arguments separated by ',': NEAR/3(a, b)"},
		{"NEAR three args", "NEAR/3(a, b, c)", 12, "NEAR/3 takes exactly two arguments; close it with ')'"},
		{"NEAR NOT arg", "NEAR/3(NOT a, b)", 8, "NEAR/3 arguments must be words, phrases or entity: terms, or ORs of them"},
		{"SENTENCE filter arg", "SENTENCE(a, topic:x)", 13, "SENTENCE arguments must be words, phrases or entity: terms, or ORs of them"},
		{"unknown field", "Quad titel:x", 6, `unknown field "titel" (known: title, text, case, nocase, entity, topic, source, lang); quote the text to search for it literally`},
		{"field without value", "title: ", 8, `title: needs a word, phrase or (group) right after it, like title:Quad or title:"MQ-9B deal"`},
		{"topic without value", "topic:(a)", 7, "topic: needs a value right after it, like topic:terrorism"},
		{"entity empty", `entity:""`, 8, "entity: needs a non-empty value, like entity:\"MQ-9B\""},
		{"conflicting fields", "title:text:x", 7, "text: inside another field; a term is in the title or in the text, not both"},
		{"no letters", `Quad "..."`, 6, `"..." has no letters or digits to match`},
		{"score without number", "score>=high", 8, "score needs a number, like score>=0.7"},
		{"score bad op", "score=>1", 1, "score comparison must be one of >=, >, <=, <, ="},
		{"columns count runes", "Ünïcödé AND", 12, "AND at column 9 needs a word, phrase or '(' after it, found end of query"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := query.Parse(c.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error", c.in)
			}
			if !errors.Is(err, query.ErrSyntax) {
				t.Errorf("error %v does not wrap ErrSyntax", err)
			}
			var pe *query.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			if pe.Pos != c.col || pe.Msg != c.msg {
				t.Errorf("got column %d %q\nwant column %d %q", pe.Pos, pe.Msg, c.col, c.msg)
			}
		})
	}
}

func TestParseDepthLimit(t *testing.T) {
	deep := ""
	for range 200 {
		deep += "("
	}
	_, err := query.Parse(deep + "a")
	if !errors.Is(err, query.ErrSyntax) {
		t.Fatalf("Parse of 200 nested parentheses: %v, want a syntax error", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`"MQ-9B" Quad`, `a OR b AND NOT c`, `NEAR/5(drone OR uav, "Indian Navy")`,
		`SENTENCE(entity:"MQ-9B", India)`, `title:(a OR case:B) -c`, `topic:terrorism score>=0.7`,
		`source:livemint lang:en`, `"unterminated`, `(((`, `score >= 1e3`, `“curly” ‘x’`, `12:30 a:b`,
	} {
		f.Add(s)
	}
	d := &query.Doc{Title: "India and the Quad", Text: "The MQ-9B drone. Quad bikes. the 12:30 train"}
	d.Prepare()
	f.Fuzz(func(t *testing.T, s string) {
		q, err := query.Parse(s)
		if err != nil {
			var pe *query.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, query.ErrSyntax) {
				t.Fatalf("Parse(%q) returned %T %v, want *ParseError", s, err, err)
			}
			if pe.Pos < 1 || pe.Pos > len([]rune(s))+1 {
				t.Fatalf("Parse(%q): column %d outside the query", s, pe.Pos)
			}
			return
		}
		canon := q.String()
		q2, err := query.Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if q2.String() != canon {
			t.Fatalf("canonical form unstable: %q -> %q", canon, q2.String())
		}
		spans, ok := q.Match(d)
		_, ok2 := q2.Match(d)
		if ok != ok2 {
			t.Fatalf("%q and its canonical form %q disagree on the same document", s, canon)
		}
		for _, sp := range spans {
			src := d.Text
			if sp.Field == "title" {
				src = d.Title
			}
			if sp.Start < 0 || sp.End > len(src) || sp.Start >= sp.End {
				t.Fatalf("span %+v outside its field", sp)
			}
		}
	})
}
