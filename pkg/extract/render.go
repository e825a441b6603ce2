package extract

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// blockTags start a new paragraph of output.
var blockTags = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Li: true, atom.Ul: true, atom.Ol: true, atom.Dl: true, atom.Dt: true, atom.Dd: true,
	atom.Blockquote: true, atom.Pre: true, atom.Table: true, atom.Tr: true, atom.Tbody: true,
	atom.Thead: true, atom.Tfoot: true, atom.Caption: true, atom.Figure: true, atom.Figcaption: true,
	atom.Header: true, atom.Footer: true, atom.Address: true, atom.Hr: true, atom.Center: true,
	atom.Details: true, atom.Summary: true, atom.Form: true, atom.Fieldset: true, atom.Legend: true,
	atom.Nav: true, atom.Aside: true, atom.Body: true, atom.Html: true,
}

// boilerPhrase starts the short blocks that sites insert into article
// bodies: cross-links, ad labels, share prompts, newsletter pitches.
var boilerPhrase = regexp.MustCompile(`(?i)^(?:also read|read also|read more|more from|see also|related\b|recommended|advertisement|sponsored|subscribe|sign up|share this|share on|share via|follow us|click here|download the|catch all the|milestone alert|lesen sie auch|lesen sie mehr|auch interessant|mehr zum thema|mehr zu|weiterlesen|weitere artikel|anzeige|werbung|teilen|lire aussi|à lire aussi|a lire aussi|lire la suite|voir aussi|publicité|partager|leer más|lea también|lee también|te puede interesar|publicidad|compartir|leia também|leia mais|veja também|compartilhe|leggi anche|potrebbe interessarti|pubblicità|condividi|lees ook|lees meer|delen|czytaj też|czytaj także|czytaj więcej|reklama|читайте также|реклама|поделиться|devamını oku|ayrıca okuyun|ilginizi çekebilir|you might also like|you may also like|more stories|more articles|latest articles|latest news|popular posts|recent posts|about the author|leave a reply|leave a comment|view comments|comments?\b|post a comment|das könnte (?:sie|dich) auch interessieren|neueste artikel|neueste beiträge|ähnliche beiträge|ähnliche artikel|verwandte artikel|weitere beiträge|über den autor|über die autorin|kommentare?\b|kommentar schreiben|schon gelesen|themen im artikel|weiterführende links?|quellen ausblenden|vorschau auf den nächsten artikel|alle artikel|à découvrir|vos réactions|réagir|sur le même sujet|dans la même rubrique|contenido relacionado|noticias relacionadas|artículos relacionados|más noticias|articoli correlati|leggi altri|powiązane|zobacz też|be sociable|mehr anzeigen|weniger anzeigen|show more|show less|load more|drucken|drukuj|imprimer|artikel teilen|beitrag teilen|rezept drucken|jetzt abonnieren|zum newsletter|newsletter abonnieren|suscríbete|abonnez-vous|inscrivez-vous|zapisz się|explore further|originalartikel|originalpublikation|quellenangaben|further reading|tags:|schlagworte|schlagwörter|themen:|kategorie:|kategorien:|category:|categories:|filed under|posted in|veröffentlicht am|erstellt am|publié le|publicado el|opublikowano|aktualisiert am|letzte änderung|last updated|zuletzt aktualisiert|fuente:|źródło:|quelle:)(?:\b|\s|$)`)

// captionLine starts picture credits and captions that sit outside
// <figcaption>.
var captionLine = regexp.MustCompile(`(?i)^(?:foto|fotos|photo|photos|bild|bilder|image|imagen|imágenes|credit|credits|crédits?(?: photos?)?|quelle|source|fuente|titelbild|beitragsbild|abbildung|grafik|©|\(c\)|copyright|getty images|picture)\b`)

// dateLine finds a year or a numeric date in a short line.
var dateLine = regexp.MustCompile(`\b(?:19|20)\d\d\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b`)

// noLetters matches dates, times and counters standing alone.
var noLetters = regexp.MustCompile(`^[\d\s.,:;/\-–|()+]*$`)

// block is one paragraph of output.
type block struct {
	text    string
	heading bool // a heading, or a short line introducing what follows
	// linky is a sentence with many links, kept only before the story's
	// last long paragraph.
	linky bool
}

// renderer accumulates the output of render.
type renderer struct {
	b        *body
	filter   bool
	out      []block
	cur      strings.Builder
	curLink  int
	curTag   atom.Atom
	curLinks int
	titleCut bool
	titleAt  int  // index in out where the headline was cut
	linky    bool // set by drop for the block being flushed
}

// render writes the text of nodes block by block. With filter set it drops
// blocks that are mostly links, the headline and inserted cross-links.
func (b *body) render(nodes []*html.Node, filter bool) string {
	r := &renderer{b: b, filter: filter}
	for _, n := range nodes {
		r.walk(n, false)
		r.flush()
	}
	lastLong := -1
	for i, bl := range r.out {
		if !bl.linky && utf8.RuneCountInString(bl.text) >= 150 {
			lastLong = i
		}
	}
	var parts []string
	var seen map[string]bool
	for i, bl := range r.out {
		if bl.text == "" || bl.linky && i > lastLong {
			continue
		}
		if r.filter && i < r.titleAt && utf8.RuneCountInString(bl.text) < kickerMax && !sentenceEnd.MatchString(bl.text) {
			// Short lines above the headline are kickers, section names
			// and dates.
			continue
		}
		// A heading followed by a dropped block, or by nothing, introduced
		// furniture: "Related articles", "Mehr zum Thema", "Tags:". One
		// followed by a subheading is the start of a section.
		if r.filter && bl.heading && (i+1 == len(r.out) || r.out[i+1].text == "") {
			continue
		}
		if r.filter && len(bl.text) >= 40 {
			// Responsive pages repeat blocks (mobile and desktop copies of
			// a caption or a pull quote); once is enough for a reader.
			if seen[bl.text] {
				continue
			}
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[bl.text] = true
		}
		parts = append(parts, bl.text)
	}
	if r.filter {
		// Short lines after the last real paragraph are credits, dates,
		// tag names and signatures; a parenthesised source line stays.
		last := -1
		for i, p := range parts {
			if utf8.RuneCountInString(p) >= 150 {
				last = i
			}
		}
		if last >= 0 {
			keep := parts[:last+1]
			for _, p := range parts[last+1:] {
				if utf8.RuneCountInString(p) >= tailMin || strings.HasPrefix(p, "(") {
					keep = append(keep, p)
				}
			}
			parts = keep
		}
	}
	return strings.Join(parts, "\n\n")
}

// headingMax is the length (runes) from which a heading counts as a
// paragraph.
const headingMax = 120

// kickerMax is the length (runes) under which a line above the headline
// that is not a sentence is dropped.
const kickerMax = 50

// A list item, or a paragraph that reads as a sentence, with at least
// proseUnlinked characters outside its links may be up to linkMaxProse
// link text.
const (
	proseUnlinked = 40
	linkMaxProse  = 0.6
)

// tailMin is the length from which a line after the story's last long
// paragraph is kept.
const tailMin = 20

func (r *renderer) walk(n *html.Node, inLink bool) {
	switch n.Type {
	case html.TextNode:
		r.cur.WriteString(n.Data)
		if inLink {
			c, _ := countText(n.Data)
			r.curLink += c
		}
		return
	case html.ElementNode:
	default:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			r.walk(c, inLink)
		}
		return
	}
	a := n.DataAtom
	switch {
	case a == atom.Br:
		r.cur.WriteByte('\n')
		return
	case a == atom.Td || a == atom.Th:
		r.cur.WriteByte(' ')
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			r.walk(c, inLink)
		}
		r.cur.WriteByte(' ')
		return
	case r.filter && (a == atom.Figcaption || a == atom.Figure && !hasBlockText(n)):
		// Captions and credits describe pictures, not the story.
		r.flush()
		return
	case blockTags[a]:
		r.flush()
		prev := r.curTag
		r.curTag = a
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			r.walk(c, inLink)
		}
		r.flush()
		r.curTag = prev
		return
	case a == atom.A:
		r.curLinks++
		inLink = true
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		r.walk(c, inLink)
	}
}

func (r *renderer) flush() {
	raw := r.cur.String()
	link, links := r.curLink, r.curLinks
	r.cur.Reset()
	r.curLink, r.curLinks = 0, 0
	text := collapse(raw)
	if text == "" {
		return
	}
	r.linky = false
	if r.filter && r.drop(text, link, links) {
		// Mark the gap so a heading before a dropped block goes too.
		r.out = append(r.out, block{heading: true})
		return
	}
	var heading bool
	if headingTag(r.curTag) {
		// A heading as long as a paragraph is a standfirst set large.
		heading = utf8.RuneCountInString(text) < headingMax
	} else {
		heading = len(text) < 60 && strings.HasSuffix(text, ":")
	}
	r.out = append(r.out, block{text: text, heading: heading, linky: r.linky})
}

func (r *renderer) drop(text string, link, links int) bool {
	n, _ := countText(text)
	if n == 0 {
		return true
	}
	switch r.curTag {
	case atom.H1, atom.H2:
		if !r.titleCut && r.b.title != "" && normKey(text) == r.b.title {
			r.titleCut = true
			r.titleAt = len(r.out)
			return true
		}
	}
	maxLink := linkMax
	if n >= linkLong {
		maxLink = linkMaxLong
	}
	if float64(link) > maxLink*float64(n) && !looksLikeURL(text) {
		sentence := r.curTag == atom.Li || !headingTag(r.curTag) && sentenceEnd.MatchString(text)
		if sentence && float64(link) <= linkMaxProse*float64(n) && n-link >= proseUnlinked {
			// A sentence whose links are words of it ("the no.1 most
			// requested feature for Hacker Monthly is here.") is prose
			// if the story goes on after it; at the end it is more often
			// a pitch ("Submit your letter via this form").
			r.linky = true
			return false
		}
		return true
	}
	runes := utf8.RuneCountInString(text)
	if runes < 250 && boilerPhrase.MatchString(text) {
		return true
	}
	if runes < 150 && captionLine.MatchString(text) {
		return true
	}
	if runes < 30 && noLetters.MatchString(text) {
		return true
	}
	if runes < 40 && dateLine.MatchString(text) && len(strings.Fields(text)) <= 5 {
		return true
	}
	return false
}

func looksLikeURL(s string) bool {
	return !strings.Contains(s, " ") && (strings.Contains(s, "://") || strings.HasPrefix(s, "www."))
}

// normKey is a comparison key for headlines: letters and digits only.
func normKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// hasBlockText reports whether a figure holds paragraphs besides its
// caption, as some CMSs wrap whole sections in <figure>.
func hasBlockText(n *html.Node) bool {
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && (c.DataAtom == atom.P || c.DataAtom == atom.Blockquote) {
			for p := c.Parent; p != nil && p != n; p = p.Parent {
				if p.DataAtom == atom.Figcaption {
					return false
				}
			}
			return true
		}
	}
	return false
}

// headingTag reports whether a renders as a heading.
func headingTag(a atom.Atom) bool {
	switch a {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Dt:
		return true
	}
	return false
}
