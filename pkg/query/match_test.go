package query_test

import (
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/query"
)

type matchCase struct {
	name  string
	q     string
	doc   query.Doc
	want  bool
	terms []string // matched text of each span, in order, when want is true
}

func text(s string) query.Doc { return query.Doc{Text: s} }

func runMatchCases(t *testing.T, cases []matchCase, opts ...query.Option) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := query.Parse(c.q, opts...)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.q, err)
			}
			d := c.doc
			spans, ok := q.Match(&d)
			checkPrefilter(t, c.q, &d, spans, ok, opts...)
			if ok != c.want {
				t.Fatalf("Match(%q) on %q / %q = %v, want %v (spans %+v)", c.q, d.Title, d.Text, ok, c.want, spans)
			}
			if !ok {
				if spans != nil {
					t.Errorf("no match but spans %+v", spans)
				}
				return
			}
			if c.terms == nil {
				return
			}
			var got []string
			for _, s := range spans {
				src := d.Text
				if s.Field == "title" {
					src = d.Title
				}
				got = append(got, src[s.Start:s.End])
			}
			if strings.Join(got, "|") != strings.Join(c.terms, "|") {
				t.Errorf("spans cover %q, want %q", got, c.terms)
			}
		})
	}
}

func TestMatchWordBoundaries(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"word", "Quad", text("Leaders of the Quad met."), true, []string{"Quad"}},
		{"not quadcopter", "Quad", text("A quadcopter and a Quadcopter flew."), false, nil},
		{"not quadrupled", "Quad", text("Exports Quadrupled and quadrupled."), false, nil},
		{"not squad", "Quad", text("The SQuad and the squad left."), false, nil},
		{"not Quadrilateral", "Quad", text("The Quadrilateral Security Dialogue met."), false, nil},
		{"not plural", "Quad", text("The Quads met."), false, nil},
		{"possessive", "Quad", text("It is the Quad's first summit."), true, []string{"Quad"}},
		{"curly possessive", "Quad", text("It is the Quad’s first summit."), true, []string{"Quad"}},
		{"possessive in query", "Quad's", text("It is the Quad’s summit, not the Quad."), true, []string{"Quad’s"}},
		{"punctuation around", "Quad", text("(the “Quad”)."), true, []string{"Quad"}},
		{"digits", "F-35", text("The F-35A and F-350 are not it, the F-35 is."), true, []string{"F-35"}},
		{"lower-case term any case", "drone", text("DRONE strikes. Drone strikes. drone strikes."), true, []string{"DRONE", "Drone", "drone"}},
		{"lower-case term word boundary", "drone", text("The drones and the dronelike thing."), false, nil},
	})
}

func TestMatchCaseRule(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"capitalised is case-sensitive", "Quad", text("He rode a quad bike; QUAD racing."), false, nil},
		{"mid-sentence capital matches", "Quad", text("Leaders of the Quad met."), true, []string{"Quad"}},
		{"sentence start alone does not match", "Quad", text("Quad bikes were banned in the park."), false, nil},
		{"sentence start after full stop", "Quad", text("It rained. Quad bikes were banned."), false, nil},
		{"sentence start after newline", "Quad", text("Park rules\nQuad bikes were banned"), false, nil},
		{"sentence start counts with mid-sentence evidence", "Quad", text("Quad leaders met. They said the Quad would grow."), true, []string{"Quad", "Quad"}},
		{"abbreviation is not a sentence end", "Quad", text("He met Gen. Quad at noon."), true, []string{"Quad"}},
		{"single-letter abbreviation", "Navy", text("The U.S. Navy sailed."), true, []string{"Navy"}},
		{"lower-case after full stop is no sentence start", "Quad", text("See fig. 2 e.g. Quad members."), true, nil},
		{"title start counts without counter-evidence", "China", query.Doc{Title: "China Sends Xi’s Security Czar to Trade Talks", Text: "China’s envoy will meet officials."}, true, []string{"China"}},
		{"title start vetoed by lower-case use", "Quad", query.Doc{Title: "Quad Bikes Banned In City Parks", Text: "Riders of a quad were fined."}, false, nil},
		{"text start gets no title benefit", "Quad", query.Doc{Title: "Beach rules", Text: "Quad bikes were banned."}, false, nil},
		{"title start counts with evidence in text", "Quad", query.Doc{Title: "Quad Leaders Meet In Tokyo", Text: "Leaders of the Quad met."}, true, []string{"Quad", "Quad"}},
		{"headline-case title inside counts", "India", query.Doc{Title: "U.S. Will Cut Tariffs on India to 18% in Trade Deal"}, true, []string{"India"}},
		{"title start alone counts", "Quad", query.Doc{Title: "Quad bikes banned in parks"}, true, []string{"Quad"}},
		{"title start vetoed in sentence-case title", "Quad", query.Doc{Title: "Quad bikes banned in parks", Text: "No quad may enter."}, false, nil},
		{"proper noun only at sentence start needs evidence", "India", text("India signed the deal."), false, nil},
		{"case: accepts sentence start", "case:India", text("India signed the deal."), true, []string{"India"}},
		{"sentence-case title mid-sentence", "Quad", query.Doc{Title: "India hosts Quad summit"}, true, []string{"Quad"}},
		{"all-caps term is never ambiguous", "NATO", text("NATO allies met."), true, []string{"NATO"}},
		{"inner capital is never ambiguous", "SeaGuardian", text("SeaGuardian drones flew."), true, []string{"SeaGuardian"}},
		{"case: exact lower", "case:quad", text("The Quad met; a quad bike; QUAD."), true, []string{"quad"}},
		{"case: exact lower no match", "case:quad", text("The Quad met."), false, nil},
		{"case: exact ignores sentence position", "case:Quad", text("Quad bikes were banned."), true, []string{"Quad"}},
		{"nocase: any case", "nocase:Quad", text("He rode a quad bike and a QUAD."), true, []string{"quad", "QUAD"}},
		{"nocase: word boundary kept", "nocase:Quad", text("A quadcopter."), false, nil},
		{"phrase per-word case", `"Quad summit"`, text("The quad summit, the Quad Summit and the Quad summit."), true, []string{"Quad Summit", "Quad summit"}},
		{"phrase with second capital is strong at sentence start", `"Quad Summit"`, text("Quad Summit opens today."), true, []string{"Quad Summit"}},
		{"phrase with lower second word is weak at sentence start", `"Quad summit"`, text("Quad summit opens today."), false, nil},
	})
}

func TestMatchDashesAndUnicode(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"hyphen", `"MQ-9B"`, text("The MQ-9B flew."), true, []string{"MQ-9B"}},
		{"unicode hyphen", `"MQ-9B"`, text("The MQ‐9B flew."), true, []string{"MQ‐9B"}},
		{"non-breaking hyphen", `MQ-9B`, text("The MQ‑9B flew."), true, []string{"MQ‑9B"}},
		{"en dash", `MQ-9B`, text("The MQ–9B flew."), true, []string{"MQ–9B"}},
		{"em dash", `MQ-9B`, text("The MQ—9B flew."), true, []string{"MQ—9B"}},
		{"minus sign", `MQ-9B`, text("The MQ−9B flew."), true, []string{"MQ−9B"}},
		{"space", `MQ-9B`, text("The MQ 9B flew."), true, []string{"MQ 9B"}},
		{"joined", `MQ-9B`, text("The MQ9B flew."), true, []string{"MQ9B"}},
		{"query en dash matches hyphen", `"MQ–9B"`, text("The MQ-9B flew."), true, []string{"MQ-9B"}},
		{"case of dashed term", `MQ-9B`, text("The mq-9b flew."), false, nil},
		{"not a longer token", `MQ-9B`, text("The MQ-9BX and XMQ-9B flew."), false, nil},
		{"not across a sentence", `MQ-9B`, text("It was the MQ. 9B was next."), false, nil},
		{"phrase spaces", `"Quad summit"`, text("The Quad   summit."), true, []string{"Quad   summit"}},
		{"phrase across line break", `"Quad summit"`, text("The Quad\nsummit."), false, nil},
		{"phrase across comma", `"Quad summit"`, text("The Quad, summit."), false, nil},
		{"phrase dash equals space", `"anti ship"`, text("An anti-ship missile."), true, []string{"anti-ship"}},
		{"soft hyphen inside word", "SeaGuardian", text("The Sea\u00adGuardian flew."), true, []string{"Sea\u00adGuardian"}},
		{"zero-width space inside word", "drone", text("A dro\u200bne."), true, nil},
		{"NFKC full-width", "MQ-9B", text("The ＭＱ－９Ｂ flew."), true, []string{"ＭＱ－９Ｂ"}},
		{"NFKC combining accent", "Zürich", text("Talks in Zu\u0308rich ended."), true, []string{"Zu\u0308rich"}},
		{"Cyrillic lower", "київ", text("Удар по Києву, не по Київ і КИЇВ."), true, []string{"Київ", "КИЇВ"}},
		{"Cyrillic case rule", "Київ", text("Удар по київ і Київ."), true, []string{"Київ"}},
		{"Devanagari", "भारत", text("यह भारत का है।"), true, []string{"भारत"}},
		{"CJK sentences", "SENTENCE(中国, 日本)", text("中国 发表 声明。日本 回应"), false, nil},
		{"CJK same sentence", "SENTENCE(中国, 声明)", text("中国 发表 声明。日本 回应"), true, nil},
		{"curly quotes in query", "“Quad summit”", text("The Quad summit."), true, []string{"Quad summit"}},
		{"apostrophe variants", `"Quad's summit"`, text("The Quad’s summit."), true, []string{"Quad’s summit"}},
		{"dotted abbreviation", `"U.S."`, text("The U.S. Navy."), true, []string{"U.S"}},
	})
}

// TestMatchNormalisation covers what comes from sharing pkg/scan's
// normaliser with the analyser.
func TestMatchNormalisation(t *testing.T) {
	us := text("Tell us about US policy and Us Weekly.")
	runMatchCases(t, []matchCase{
		{"US is the country", "US", us, true, []string{"US"}},
		{"case:US", "case:US", us, true, []string{"US"}},
		{"us any case", "us", us, true, []string{"us", "US", "Us"}},
		{"nocase:US any case", "nocase:US", us, true, []string{"us", "US", "Us"}},
		{"case:us", "case:us", us, true, []string{"us"}},
		{"US is not U.S.", "US", text("The U.S. Navy."), false, nil},
		{"U.S. is not US", `"U.S."`, text("The US Navy."), false, nil},
		{"US-led joined", "US-led", text("A USled force."), true, []string{"USled"}},
		{"a letter of US is no word", "s", text("US policy"), false, nil},
		{"title is one sentence", "SENTENCE(India, China)", query.Doc{Title: "India wins. China loses"}, true, nil},
		{"title capital after a full stop", "China", query.Doc{Title: "India wins. China loses", Text: "No china here."}, true, []string{"China"}},
		{"HTML entity remnant is punctuation", "39", text("Lashkar#39;s chief and Lashkar&#39;s men"), false, nil},
		{"possessive after an entity remnant", "Lashkar", text("All Lashkar&#39;s men"), true, []string{"Lashkar"}},
		{"phrase through an entity remnant", `"Lashkar's"`, text("All Lashkar&#39;s men"), true, []string{"Lashkar&#39;s"}},
		{"phrase through a bare entity remnant", `"Lashkar's"`, text("All Lashkar#39;s men"), true, []string{"Lashkar#39;s"}},
		{"AT&T before a semicolon", "AT&T", text("Shares of AT&T; Verizon fell."), true, []string{"AT&T"}},
		{"Inc. is an abbreviation", "India", text("Reliance Inc. India said."), true, []string{"India"}},
		{"ellipsis ends a sentence", "Quad", text("He waited… Quad bikes came."), false, nil},
		{"trailing soft hyphen out of the span", "SeaGuardian", text("Sea\u00adGuardian\u00ad drones"), true, []string{"Sea\u00adGuardian"}},
	})
}

func TestMatchOperators(t *testing.T) {
	d := text("Both India and the US signed the MQ-9B deal. The Quad met in Tokyo.")
	runMatchCases(t, []matchCase{
		{"implicit AND", "MQ-9B Tokyo", d, true, []string{"MQ-9B", "Tokyo"}},
		{"implicit AND fails", "MQ-9B Paris", d, false, nil},
		{"AND", "MQ-9B AND Tokyo", d, true, nil},
		{"OR first", "Paris OR Tokyo", d, true, []string{"Tokyo"}},
		{"OR all spans", "India OR Tokyo", d, true, []string{"India", "Tokyo"}},
		{"OR none", "Paris OR Berlin", d, false, nil},
		{"NOT", "Quad NOT Paris", d, true, []string{"Quad"}},
		{"NOT excludes", "Quad NOT Tokyo", d, false, nil},
		{"minus is NOT", "Quad -Tokyo", d, false, nil},
		{"NOT alone", "NOT Paris", d, true, nil},
		{"precedence AND over OR", "Paris AND Berlin OR Tokyo", d, true, []string{"Tokyo"}},
		{"precedence NOT over AND", "NOT Paris AND Tokyo", d, true, nil},
		{"parentheses", "Paris AND (Berlin OR Tokyo)", d, false, nil},
		{"nested", "(India OR Paris) AND NOT (Berlin OR Rome)", d, true, []string{"India"}},
		{"failed AND drops spans", "(India AND Paris) OR Tokyo", d, true, []string{"Tokyo"}},
		{"lower-case and is a word", "india and us", d, true, []string{"India", "and", "US"}},
	})
}

func TestMatchProximity(t *testing.T) {
	d := text("On Monday India signed the MQ-9B deal. Officials in Washington welcomed the drone purchase.")
	runMatchCases(t, []matchCase{
		{"NEAR adjacent", "NEAR/0(MQ-9B, deal)", d, true, []string{"MQ-9B", "deal"}},
		{"NEAR within", "NEAR/2(signed, deal)", d, true, []string{"signed", "deal"}},
		{"NEAR reversed order", "NEAR/2(deal, signed)", d, true, nil},
		{"NEAR too far", "NEAR/0(India, the)", d, false, nil},
		{"NEAR across sentences counts words", "NEAR/7(Monday, Washington)", d, true, nil},
		{"NEAR across sentences too far", "NEAR/6(Monday, Washington)", d, false, nil},
		{"NEAR hyphenated is one word", "NEAR/2(signed, deal)", d, true, nil},
		{"NEAR hyphenated is one word too far", "NEAR/1(signed, deal)", d, false, nil},
		{"NEAR possessive is one word", "NEAR/0(Quad, summit)", text("the Quad's summit"), true, nil},
		{"NEAR with OR", "NEAR/2((purchase OR sale), drone)", d, true, []string{"drone", "purchase"}},
		{"NEAR with phrase", `NEAR/1("the drone", Washington)`, d, true, []string{"Washington", "the drone"}},
		{"NEAR with phrase too far", `NEAR/0("the drone", Washington)`, d, false, nil},
		{"SENTENCE same", "SENTENCE(India, deal)", d, true, []string{"India", "deal"}},
		{"SENTENCE different", "SENTENCE(India, Washington)", d, false, nil},
		{"SENTENCE with NOT", "SENTENCE(MQ-9B, drone) OR NOT Paris", d, true, nil},
		{"title and text are separate", "NEAR/5(India, drone)", query.Doc{Title: "Why India wants a drone", Text: "drone"}, true, nil},
		{"title vs text not near", "NEAR/50(Pakistan, drone)", query.Doc{Title: "Why India wants a drone", Text: "Pakistan"}, false, nil},
	})
}

func TestMatchFieldsAndFilters(t *testing.T) {
	d := query.Doc{
		Title:  "Why India signs MQ-9B deal",
		Text:   "The Quad met in Tokyo. Terror attack in Kashmir.",
		Source: "www.livemint.com",
		Lang:   "en-IN",
		Topics: map[string]float64{"terrorism": 0.82, "military": 0.4},
	}
	runMatchCases(t, []matchCase{
		{"title word", "title:India", d, true, []string{"India"}},
		{"title word not in title", "title:Quad", d, false, nil},
		{"title phrase", `title:"MQ-9B deal"`, d, true, []string{"MQ-9B deal"}},
		{"title group", "title:(Quad OR deal)", d, true, []string{"deal"}},
		{"text word", "text:Quad", d, true, []string{"Quad"}},
		{"text word not in text", "text:India", d, false, nil},
		{"topic", "Quad topic:terrorism", d, true, []string{"Quad"}},
		{"topic case-insensitive", "topic:Terrorism", d, true, nil},
		{"topic missing", "topic:cyber", d, false, nil},
		{"source label", "source:livemint", d, true, nil},
		{"source domain", "source:livemint.com", d, true, nil},
		{"source other", "source:hindu", d, false, nil},
		{"lang prefix", "lang:en", d, true, nil},
		{"lang full", "lang:en-in", d, true, nil},
		{"lang other", "lang:fr", d, false, nil},
		{"score max topic", "score>=0.8", d, true, nil},
		{"score max topic fails", "score>0.9", d, false, nil},
		{"score of referenced topic", "topic:military score>=0.5", d, false, nil},
		{"score of referenced topics OR", "(topic:military OR topic:terrorism) score>=0.8", d, true, nil},
		{"score less", "score<0.5", query.Doc{}, true, nil},
		{"score with spaces", "score >= 0.8", d, true, nil},
		{"entity without aliases", `entity:"MQ-9B"`, d, true, []string{"MQ-9B"}},
		{"title entity", `title:entity:Quad`, d, false, nil},
	})
}

func TestMatchEntityAliases(t *testing.T) {
	aliases := func(name string) []string {
		if name == "MQ-9B" {
			return []string{"SeaGuardian", "SkyGuardian", "MQ 9B", "MQ9B", "Predator B"}
		}
		return nil
	}
	runMatchCases(t, []matchCase{
		{"alias", `entity:"MQ-9B"`, text("The Navy leases SeaGuardian drones."), true, []string{"SeaGuardian"}},
		{"alias phrase", `entity:"MQ-9B"`, text("A Predator B flew."), true, []string{"Predator B"}},
		{"canonical", `entity:"MQ-9B"`, text("An MQ–9B flew."), true, []string{"MQ–9B"}},
		{"alias word boundary", `entity:"MQ-9B"`, text("SeaGuardians and SkyGuardianX."), false, nil},
		{"alias in NEAR", `NEAR/3(entity:"MQ-9B", India)`, text("Navy says India will buy SkyGuardian drones."), true, []string{"India", "SkyGuardian"}},
		{"unknown entity is itself", `entity:Quad`, text("The Quad met."), true, []string{"Quad"}},
	}, query.WithAliases(aliases))

	q, err := query.Parse(`entity:"MQ-9B"`, query.WithAliases(aliases))
	if err != nil {
		t.Fatal(err)
	}
	spans, _ := q.Match(&query.Doc{Text: "SeaGuardian"})
	if len(spans) != 1 || spans[0].Term != "MQ-9B" {
		t.Errorf("entity spans = %+v, want one span labelled with the entity name", spans)
	}
}

func TestMatchSpans(t *testing.T) {
	long := strings.Repeat("filler words here ", 20) + "the Quad met" + strings.Repeat(" and more words", 20)
	q, err := query.Parse("Quad OR filler", query.WithMaxSpans(2))
	if err != nil {
		t.Fatal(err)
	}
	d := query.Doc{Title: "Quad summit in India", Text: long}
	spans, ok := q.Match(&d)
	if !ok {
		t.Fatal("no match")
	}
	var fields []string
	for _, s := range spans {
		fields = append(fields, s.Field+":"+s.Term)
	}
	// Title first; Quad has two occurrences, filler is capped at 2.
	want := "title:Quad|text:filler|text:filler|text:Quad"
	if got := strings.Join(fields, "|"); got != want {
		t.Fatalf("spans = %s, want %s", got, want)
	}
	s := spans[3]
	if !strings.HasPrefix(s.Snippet, "…") || !strings.HasSuffix(s.Snippet, "…") || !strings.Contains(s.Snippet, "the Quad met") {
		t.Errorf("snippet %q should be cut on both sides around the match", s.Snippet)
	}
	if n := len([]rune(s.Snippet)); n > query.SnippetWidth+2 || n < query.SnippetWidth-20 {
		t.Errorf("snippet is %d characters, want about %d", n, query.SnippetWidth)
	}

	// Prepare must give the same answer and notice edited fields.
	d.Prepare()
	again, _ := q.Match(&d)
	if len(again) != len(spans) {
		t.Errorf("after Prepare got %d spans, want %d", len(again), len(spans))
	}
	d.Title = "nothing"
	again, _ = q.Match(&d)
	if len(again) != 3 {
		t.Errorf("after editing the prepared title got %d spans, want 3", len(again))
	}
}

func TestSnippet(t *testing.T) {
	cases := []struct {
		name, s    string
		start, end int
		width      int
		want       string
	}{
		{"whole", "short text here", 6, 10, 160, "short text here"},
		{"collapse whitespace", "a\n\nb  c", 3, 4, 160, "a b c"},
		{"cut both", "one two three four five six seven", 14, 18, 12, "…four…"},
		{"cut on word edges", "one two three four five six seven", 14, 18, 16, "…three four five…"},
		{"cut right only", "one two three four five", 0, 3, 10, "one two…"},
		{"cut left only", "one two three four five", 19, 23, 10, "…four five"},
		{"multibyte", "ааа ббб ввв ггг ддд", 15, 21, 12, "…ввв ггг…"},
		{"bad range", "abc", 2, 1, 10, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := query.Snippet(c.s, c.start, c.end, c.width); got != c.want {
				t.Errorf("Snippet = %q, want %q", got, c.want)
			}
		})
	}
}
