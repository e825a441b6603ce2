package extract

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// stats describes a subtree: how much text it holds, how much of that is
// link text, and how paragraph-like it is.
type stats struct {
	text, link, commas, paras int
	order                     int // position in document order
	// good is the text of the subtree's paragraphs that read like prose:
	// long enough and with few links.
	good           int
	score          float64
	scored, listed bool
}

// body holds the per-node figures of one extraction.
type body struct {
	st      map[*html.Node]*stats
	title   string
	lenient bool
	order   int          // pre-order counter for stats.order
	leads   []*html.Node // elements named like a standfirst
	// prose is the page's prose text (stats.good of <body>) before
	// anything is removed.
	prose int
	// headline marks the ancestors of the heading that repeats the title.
	headline map[*html.Node]bool
}

// dropTags never hold article text.
var dropTags = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Template: true, atom.Rt: true, atom.Rp: true,
	atom.Svg: true, atom.Math: true, atom.Iframe: true, atom.Object: true, atom.Embed: true,
	atom.Canvas: true, atom.Button: true, atom.Select: true, atom.Input: true,
	atom.Textarea: true, atom.Link: true, atom.Meta: true, atom.Head: true, atom.Audio: true,
	atom.Video: true, atom.Map: true, atom.Dialog: true, atom.Label: true, atom.Option: true,
}

// structuralBoilerplate are elements whose role is page furniture.
var structuralBoilerplate = map[atom.Atom]bool{
	atom.Nav: true, atom.Footer: true, atom.Aside: true, atom.Header: true, atom.Menu: true,
}

var boilerRoles = map[string]bool{
	"navigation": true, "banner": true, "contentinfo": true, "complementary": true,
	"search": true, "dialog": true, "alertdialog": true, "menu": true, "menubar": true,
}

// Class and id words. A class or id token is split at dashes, underscores
// and camelCase humps ("shareBar" -> share-bar), and every run of up to
// three parts is looked up, so "entry-meta" and "post_share_buttons" hit.
type tokClass uint8

const (
	tNeg           tokClass = 1 << iota // page furniture in common CMS themes
	tStrong                             // furniture however much prose it holds: related lists, bios, disclaimers
	tComment                            // comment sections, which can outweigh the article
	tPos                                // article containers
	tUI                                 // dialogs and overlays, which can be <article>s too
	tEmbed                              // embedded social posts, which quote someone else
	tParaFurniture                      // paragraphs that describe the article: captions, credits, disclaimers
	tLead                               // standfirsts, which often sit in a header apart from the body
)

var tokWords = func() map[string]tokClass {
	m := map[string]tokClass{}
	add := func(c tokClass, words string) {
		for _, w := range strings.Fields(words) {
			m[w] |= c
		}
	}
	add(tNeg, `nav navbar navigation navi menu menus mainmenu breadcrumb breadcrumbs brotkruemel footer
		header masthead sidebar sidebars widget widgets comment comments comment-list commentlist
		kommentar kommentare disqus share shares sharing sharebar sharedaddy social socials soc
		related relatedposts recommended recommendations empfehlungen newsletter subscribe
		subscription signup abo promo promotion promos advert advertisement adverts ad ads adslot
		ad-slot anzeige werbung banner cookie cookies cookie-notice consent gdpr popup modal
		overlay pagination pager tags tagcloud tag-cloud tag-list byline author authors autor meta
		postmeta post-meta entry-meta rating ratings toolbar outbrain taboola sponsored sponsor
		more-stories read-more readmore also-read alsoread popular trending most-read mostread
		login skip jump ticker hidden-print dateline timestamp posted-on entry-date
		postmetadata metadata community-notice notice screen-reader-text sr-only visually-hidden
		caption credit credits copyright follow slider slide slides slideshow carousel`)
	add(tStrong, `related relatedposts related-posts teaser teasers teasertext recommended recommendations
		empfehlungen newsletter outbrain taboola popular trending most-read mostread more-stories
		read-more readmore also-read alsoread author-box authorbox author-bio saboxplugin mini-bio
		bio license licence disclosure disclaimer affiliate paywall abowerbung cta nextstory
		next-post prev-post post-navigation nav-links cookie cookies consent gdpr breadcrumb
		breadcrumbs pagination sharing share social socials sharedaddy shariff`)
	add(tComment, `comment comments comment-list commentlist kommentar kommentare disqus respond replies`)
	add(tPos, `article articles body content contents entry main page post text blog story artikel inhalt
		texto contenido nota noticia beitrag single prose rich-text richtext paragraph markdown`)
	add(tUI, `modal dialog logindialog popup login registration overlay lightbox offcanvas off-canvas
		drawer`)
	add(tEmbed, `twitter-tweet instagram-media fb-post tiktok-embed oembed social-embed embed-social`)
	add(tNeg|tStrong, `sidebar sidebars textwidget widget-area widgettitle widget-title xoxo`)
	add(tNeg, `factbox infobox kasten kastenbox info-box fact-box boxinfo`)
	add(tNeg|tParaFurniture, `legend bildlegende dida image-subtitle img-caption photo-caption
		media-caption`)
	add(tParaFurniture, `caption credit credits copyright copyrights disclaimer disclosure postmetadata metadata
		byline dateline imagedescription image-description bildunterschrift bildquelle toc-title
		ez-toc-title wp-caption-text`)
	add(tLead, `lead lede abstract excerpt intro introduction standfirst subheadline sub-headline subtitle
		summary chapo bajada deck dek strapline`)
	return m
}()

// classBits classifies n by its class and id tokens.
func classBits(n *html.Node) tokClass {
	var bits tokClass
	var buf [128]byte
	for _, a := range n.Attr {
		if a.Key != "class" && a.Key != "id" {
			continue
		}
		v := a.Val
		for i := 0; i < len(v); {
			for i < len(v) && isSpace(v[i]) {
				i++
			}
			j := i
			for j < len(v) && !isSpace(v[j]) {
				j++
			}
			if j > i {
				bits |= tokenBits(v[i:j], buf[:0])
			}
			i = j
		}
	}
	return bits
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// tokenBits normalises one token into buf (lower case, a dash between
// parts) and looks up every run of one to three parts.
func tokenBits(tok string, buf []byte) tokClass {
	var starts, ends [16]int
	parts, partStart := 0, 0
	endPart := func() {
		if len(buf) > partStart && parts < len(starts) {
			starts[parts], ends[parts] = partStart, len(buf)
			parts++
		}
	}
	prevLower := false
	for k := 0; k < len(tok) && len(buf) < cap(buf)-2; k++ {
		c := tok[k]
		switch {
		case c == '-' || c == '_':
			endPart()
			buf = append(buf, '-')
			partStart = len(buf)
			prevLower = false
			continue
		case c >= 'A' && c <= 'Z':
			if prevLower { // a camelCase hump starts a part
				endPart()
				buf = append(buf, '-')
				partStart = len(buf)
			}
			c += 'a' - 'A'
			prevLower = false
		default:
			prevLower = c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		}
		buf = append(buf, c)
	}
	endPart()
	var bits tokClass
	for i := 0; i < parts; i++ {
		for j := i; j < parts && j < i+3; j++ {
			bits |= tokWords[string(buf[starts[i]:ends[j]])]
		}
	}
	return bits
}

// classWeight is readability's hint from class and id names.
func classWeight(bits tokClass) float64 {
	w := 0.0
	if bits&tNeg != 0 {
		w -= 25
	}
	if bits&tPos != 0 {
		w += 25
	}
	return w
}

// extractBody returns the article text of doc. keep, when set by a site
// rule, is the container to render.
//
// lenient skips removal by class and id names, for pages where those names
// mislead (a theme that calls its article column "widget"). It returns the
// prose text the page held before anything was removed, so the caller can
// tell when the result lost most of it.
func extractBody(doc *html.Node, keep *html.Node, title string, lenient bool) (string, int) {
	b := &body{st: make(map[*html.Node]*stats, 1024), title: normKey(title), lenient: lenient}
	clean(doc)
	root := findBody(doc)
	if root == nil {
		return "", 0
	}
	if keep != nil {
		// A site rule names the container; inserts inside it still go.
		return b.render([]*html.Node{keep}, true), 0
	}
	total := b.measure(root)
	if total.text == 0 {
		return "", 0
	}
	good := total.good
	b.prose = good
	b.markHeadline(root)
	b.removeBoilerplate(root, total.text)
	nodes := b.candidates(root)
	return b.render(nodes, true), good
}

func findBody(doc *html.Node) *html.Node {
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.DataAtom == atom.Body {
			return n
		}
	}
	return nil
}

// clean removes what is never text: scripts, forms' controls, hidden
// elements and comments.
func clean(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		switch c.Type {
		case html.CommentNode, html.DoctypeNode:
			n.RemoveChild(c)
		case html.ElementNode:
			if dropTags[c.DataAtom] || isHidden(c) || c.DataAtom == atom.Noscript && !noscriptArticle(c) {
				n.RemoveChild(c)
			} else {
				clean(c)
			}
		}
		c = next
	}
}

func isHidden(n *html.Node) bool {
	for _, a := range n.Attr {
		switch a.Key {
		case "hidden":
			return true
		case "aria-hidden":
			if a.Val == "true" {
				return true
			}
		case "style":
			s := strings.ToLower(a.Val)
			if strings.Contains(s, "display:none") || strings.Contains(s, "display: none") ||
				strings.Contains(s, "visibility:hidden") || strings.Contains(s, "visibility: hidden") {
				return true
			}
		}
	}
	return false
}

// measure fills st bottom-up and returns the figures of n.
func (b *body) measure(n *html.Node) *stats {
	s := &stats{}
	if n.Type == html.TextNode {
		s.text, s.commas = countText(n.Data)
		return s
	}
	b.order++
	s.order = b.order
	var inl, inlLink int
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		cs := b.measure(c)
		s.text += cs.text
		s.link += cs.link
		s.commas += cs.commas
		s.paras += cs.paras
		s.good += cs.good
		if c.Type == html.TextNode || c.Type == html.ElementNode && inlineTags[c.DataAtom] {
			inl += cs.text
			inlLink += cs.link
		}
	}
	if n.Type == html.ElementNode {
		switch n.DataAtom {
		case atom.A:
			s.link = s.text
		case atom.P:
			s.paras++
		}
		switch n.DataAtom {
		case atom.P, atom.Pre, atom.Blockquote, atom.Td, atom.Dd, atom.Li:
			if proseLike(s.text, s.link) {
				s.good = s.text
			}
		default:
			if !inlineTags[n.DataAtom] && proseLike(inl, inlLink) {
				s.good += inl
			}
		}
		b.st[n] = s
	}
	return s
}

// proseLike is the test for a paragraph of article text.
func proseLike(text, link int) bool { return text >= 50 && link*3 < text }

// countText counts non-space runes and commas (Latin, CJK and Arabic).
func countText(s string) (n, commas int) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch c {
			case ' ', '\n', '\t', '\r', '\f':
				continue
			case ',':
				commas++
			}
			n++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if unicode.IsSpace(r) {
			continue
		}
		if r == '，' || r == '、' || r == '،' {
			commas++
		}
		n++
	}
	return n, commas
}

// removeBoilerplate drops furniture found by tag, role, class or id, unless
// the element holds most of the page's text (a theme that calls its whole
// content column "main-with-sidebar").
func (b *body) removeBoilerplate(n *html.Node, total int) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode {
			if b.isBoilerplate(c, total) {
				b.detach(c)
			} else {
				if classBits(c)&tLead != 0 {
					b.leads = append(b.leads, c)
				}
				b.removeBoilerplate(c, total)
			}
		}
		c = next
	}
}

func (b *body) isBoilerplate(n *html.Node, total int) bool {
	s := b.st[n]
	if s == nil {
		return false
	}
	share := float64(s.text) / float64(total)
	if n.DataAtom == atom.Header && insideArticle(n) {
		// An article's own header holds the lead paragraph; its byline and
		// date blocks are caught one level down by their class names.
		return false
	}
	if b.headline[n] {
		// Whatever its tag or name (<aside class="blogPost">,
		// "article-header", "share_wrapper"), an element holding the
		// headline is the article or its header, with the standfirst;
		// its furniture (bylines, share bars, kickers) goes one level
		// down, by name, or in rendering.
		return false
	}
	if structuralBoilerplate[n.DataAtom] || boilerRoles[strings.ToLower(attr(n, "role"))] {
		if n.DataAtom == atom.Aside && s.paras >= 3 && s.text > 400 && s.linkDensity() < 0.2 && insideArticle(n) {
			// Some CMSs wrap the story itself in <aside> inside <main>.
			return false
		}
		return share < 0.6
	}
	bits := classBits(n)
	if bits != 0 && b.inRunningText(n) {
		return false
	}
	if n.DataAtom != atom.Body && share < 0.6 && bits&tUI != 0 && float64(s.good) < proseKeep*float64(b.prose) {
		// A dialog or overlay holds a form or a teaser, not most of the
		// page's prose ("article modal-enabled", "js-lightbox-gallery").
		return true
	}
	if bits&tEmbed != 0 && share < 0.5 {
		return true
	}
	if (n.DataAtom == atom.P || n.DataAtom == atom.Span || n.DataAtom == atom.Small) && bits&tParaFurniture != 0 && s.text < furnitureMax {
		return true
	}
	switch n.DataAtom {
	case atom.Article, atom.Main, atom.Body, atom.P, atom.A, atom.Li,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote, atom.Pre:
		// Ids of these are often derived from their text ("nav_..."), and
		// a paragraph is judged by the render filters instead.
		return false
	}
	if bits == 0 {
		return false
	}
	if bits&tComment != 0 {
		return share < 0.9
	}
	if b.lenient {
		return false
	}
	if bits&tStrong != 0 && bits&tPos == 0 {
		return share < 0.9
	}
	if bits&tNeg == 0 {
		return false
	}
	// Article text is several real paragraphs with few links; furniture
	// (share bars, promos, bios) is short or mostly links.
	if s.paras >= 5 && s.text > 400 && s.linkDensity() < 0.3 {
		return false
	}
	if bits&tPos != 0 && share > 0.3 {
		return false
	}
	return share < 0.6
}

// inRunningText reports whether n is a short inline element at the start of
// a paragraph of prose, as a news dateline ("KOBE – A total of ...") is,
// whatever its class says.
func (b *body) inRunningText(n *html.Node) bool {
	p := n.Parent
	if n.DataAtom == atom.P || p == nil || p.DataAtom != atom.P {
		return false
	}
	ps, s := b.st[p], b.st[n]
	if ps == nil || s == nil || 2*s.text >= ps.text || !proseLike(ps.text-s.text, ps.link) {
		return false
	}
	for c := p.FirstChild; c != n; c = c.NextSibling {
		if c.Type == html.TextNode && strings.TrimSpace(c.Data) != "" || c.Type == html.ElementNode {
			return false
		}
	}
	return true
}

// markHeadline finds the first h1-h3 that repeats the page's title (which
// often carries the site's name too) and marks its ancestors.
func (b *body) markHeadline(root *html.Node) {
	if len(b.title) < 10 {
		return
	}
	for n := range root.Descendants() {
		if n.Type != html.ElementNode || n.DataAtom != atom.H1 && n.DataAtom != atom.H2 && n.DataAtom != atom.H3 {
			continue
		}
		if s := b.st[n]; s == nil || s.text < 10 || s.text > 300 || s.link*2 > s.text {
			// A linked heading is the site's name or a teaser's.
			continue
		}
		k := normKey(textOf(n))
		if len(k) < 10 || 2*len(k) < len(b.title) || !strings.Contains(b.title, k) {
			continue
		}
		b.headline = map[*html.Node]bool{}
		for p := n.Parent; p != nil && p != root; p = p.Parent {
			b.headline[p] = true
		}
		return
	}
}

func insideArticle(n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.DataAtom == atom.Article || p.DataAtom == atom.Main {
			return true
		}
	}
	return false
}

// detach removes n and takes its figures off its ancestors.
func (b *body) detach(n *html.Node) {
	s := b.st[n]
	for p := n.Parent; p != nil; p = p.Parent {
		if ps := b.st[p]; ps != nil {
			ps.text -= s.text
			ps.link -= s.link
			ps.commas -= s.commas
			ps.paras -= s.paras
			ps.good -= s.good
		}
	}
	n.Parent.RemoveChild(n)
}

func (s *stats) linkDensity() float64 {
	if s.text == 0 {
		return 0
	}
	return float64(s.link) / float64(s.text)
}

var inlineTags = map[atom.Atom]bool{
	atom.A: true, atom.B: true, atom.I: true, atom.Em: true, atom.Strong: true, atom.Span: true,
	atom.Font: true, atom.Small: true, atom.Sup: true, atom.Sub: true, atom.U: true, atom.Abbr: true,
	atom.Cite: true, atom.Code: true, atom.Q: true, atom.Mark: true, atom.Time: true, atom.Br: true,
	atom.Img: true, atom.S: true, atom.Strike: true, atom.Del: true, atom.Ins: true, atom.Kbd: true,
	atom.Var: true, atom.Dfn: true, atom.Big: true, atom.Tt: true, atom.Wbr: true, atom.Bdi: true, atom.Bdo: true,
}

// directText is the text of n that is not inside a child block element:
// what a reader sees as n's own paragraph.
func (b *body) directText(n *html.Node) (text, commas int) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.TextNode:
			t, cm := countText(c.Data)
			text += t
			commas += cm
		case c.Type == html.ElementNode && inlineTags[c.DataAtom]:
			if s := b.st[c]; s != nil {
				text += s.text
				commas += s.commas
			}
		}
	}
	return text, commas
}

func tagWeight(a atom.Atom) float64 {
	switch a {
	case atom.Div, atom.Article, atom.Main, atom.Section:
		return 5
	case atom.Pre, atom.Td, atom.Blockquote:
		return 3
	case atom.Address, atom.Ol, atom.Ul, atom.Dl, atom.Dd, atom.Dt, atom.Li, atom.Form:
		return -3
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Th:
		return -5
	}
	return 0
}

func (b *body) initScore(n *html.Node) *stats {
	s := b.st[n]
	if s == nil {
		return nil
	}
	if !s.scored {
		s.scored = true
		s.score = tagWeight(n.DataAtom) + classWeight(classBits(n))
	}
	return s
}

// candidates scores every paragraph-like block into its ancestors and
// returns the best container plus the siblings that belong with it.
func (b *body) candidates(root *html.Node) []*html.Node {
	var scored []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if !inlineTags[c.DataAtom] {
				var text, commas int
				switch c.DataAtom {
				case atom.P, atom.Pre, atom.Td, atom.Blockquote:
					s := b.st[c]
					text, commas = s.text, s.commas
				case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Th:
				default:
					text, commas = b.directText(c)
				}
				if text >= 25 {
					score := 1 + float64(commas) + min(float64(text)/100, 3)
					level := 0
					for p := c.Parent; p != nil && p.Type == html.ElementNode && level < 5; p = p.Parent {
						ps := b.initScore(p)
						if ps == nil {
							break
						}
						if !ps.scoredList() {
							scored = append(scored, p)
							ps.markListed()
						}
						div := 1.0
						switch {
						case level == 1:
							div = 2
						case level > 1:
							div = float64(level * 3)
						}
						ps.score += score / div
						level++
					}
				}
			}
			walk(c)
		}
	}
	walk(root)

	var top *html.Node
	var topScore float64
	for _, n := range scored {
		s := b.st[n]
		f := s.score * (1 - s.linkDensity())
		s.score = f
		if top == nil || f > topScore {
			top, topScore = n, f
		}
	}
	if top == nil {
		return []*html.Node{root}
	}
	if rs := b.st[root]; rs != nil && rs.good > 0 && float64(b.st[top].good) < proseRescue*float64(rs.good) {
		// The winner holds little of the page's prose (a login dialog, a
		// photo caption): take the smallest container holding most of it.
		if n := b.proseContainer(root, rs.good); n != nil {
			top = n
			topScore = b.st[n].score
		}
	}
	// A container whose parent holds nearly the same text is usually one
	// wrapper of several; climb while nothing is lost but little is gained.
	for p := top.Parent; p != nil && p != root && p.Type == html.ElementNode; p = p.Parent {
		ps, ts := b.st[p], b.st[top]
		if ps == nil || ts == nil || ps.text > ts.text*11/10+20 {
			break
		}
		top = p
	}

	parent := top.Parent
	if parent == nil || top == root {
		return []*html.Node{top}
	}
	extra := b.proseSiblings(top, root)
	threshold := max(10, topScore*0.2)
	topClass := attr(top, "class")
	var out []*html.Node
	for sib := parent.FirstChild; sib != nil; sib = sib.NextSibling {
		if sib == top {
			out = append(out, sib)
			continue
		}
		if sib.Type == html.TextNode {
			continue
		}
		if sib.Type != html.ElementNode {
			continue
		}
		s := b.st[sib]
		if s == nil {
			continue
		}
		bonus := 0.0
		if topClass != "" && attr(sib, "class") == topClass {
			bonus = topScore * 0.2
		}
		if s.scored && s.score+bonus >= threshold {
			out = append(out, sib)
			continue
		}
		if sib.DataAtom == atom.P || sib.DataAtom == atom.Blockquote || sib.DataAtom == atom.Pre {
			ld := s.linkDensity()
			if s.text > 80 && ld < 0.25 {
				out = append(out, sib)
			} else if s.text > 0 && s.text <= 80 && ld == 0 && sentenceEnd.MatchString(textOf(sib)) {
				out = append(out, sib)
			}
		}
	}
	leads := b.leadsBefore(out, top, root)
	if len(extra) == 0 && len(leads) == 0 {
		return out
	}
	if extra == nil {
		extra = map[*html.Node]bool{}
	}
	for _, n := range out {
		extra[n] = true
	}
	for _, n := range leads {
		extra[n] = true
	}
	return inDocOrder(root, extra)
}

// leadsBefore finds standfirsts ("lead", "abstract", "intro" ...) that come
// before the chosen content within the same story, typically in the
// article header beside the headline, which scoring leaves out.
func (b *body) leadsBefore(sel []*html.Node, top, root *html.Node) []*html.Node {
	if len(b.leads) == 0 {
		return nil
	}
	first := -1
	for _, n := range sel {
		if s := b.st[n]; s != nil && (first < 0 || s.order < first) {
			first = s.order
		}
	}
	near := map[*html.Node]bool{}
	for a, k := top.Parent, 0; a != nil && a != root && k < proseLevels+2; a, k = a.Parent, k+1 {
		near[a] = true
	}
	var out []*html.Node
	for _, l := range b.leads {
		s := b.st[l]
		if s == nil || s.order >= first || s.text < 30 || s.text > 800 || s.linkDensity() >= 0.3 || near[l] {
			continue
		}
		shared, attached := false, false
		for a := l.Parent; a != nil; a = a.Parent {
			if near[a] {
				shared = true
			}
			if a == root {
				attached = true
				break
			}
		}
		if shared && attached {
			out = append(out, l)
		}
	}
	return out
}

// proseSiblings looks beside the top candidate and beside its ancestors,
// a few levels up, for blocks that are mostly prose: articles split over
// several sibling containers (lead, body sections, a final box) otherwise
// lose all but one of them.
func (b *body) proseSiblings(top, root *html.Node) map[*html.Node]bool {
	var found map[*html.Node]bool
	a := top
	for level := 0; level < proseLevels && a.Parent != nil && a.Parent != root; level++ {
		for sib := a.Parent.FirstChild; sib != nil; sib = sib.NextSibling {
			if sib == a || sib.Type != html.ElementNode {
				continue
			}
			s := b.st[sib]
			if s == nil || s.good < 50 || float64(s.good) < proseShare*float64(s.text) || s.linkDensity() >= 0.3 {
				continue
			}
			if found == nil {
				found = map[*html.Node]bool{}
			}
			found[sib] = true
		}
		a = a.Parent
	}
	if found != nil {
		found[top] = true
	}
	return found
}

// inDocOrder returns the marked nodes in document order, outermost only.
func inDocOrder(root *html.Node, marked map[*html.Node]bool) []*html.Node {
	var out []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if marked[c] {
				out = append(out, c)
				continue
			}
			walk(c)
		}
	}
	walk(root)
	return out
}

var sentenceEnd = regexp.MustCompile(`[.!?。！？]\s*$|[.!?。！？]\s`)

func (s *stats) scoredList() bool { return s.listed }
func (s *stats) markListed()      { s.listed = true }

// Tuning on the trafilatura evaluation corpus (see TestCorpus).
const (
	// proseLevels is how many ancestors of the top candidate are searched
	// for sibling prose.
	proseLevels = 8
	// proseShare is the share of a sibling's text that must be prose.
	proseShare = 0.8
	// linkMax is the link density above which a short block is a link
	// list; long blocks may reach linkMaxLong.
	linkMax, linkMaxLong = 0.3, 0.5
	// linkLong is the length from which a block counts as long.
	linkLong = 150
)

// noscriptArticle reports whether a <noscript> holds the page's text, as
// on blogs that render posts with JavaScript; most hold a tracking pixel or
// an "enable JavaScript" line.
func noscriptArticle(n *html.Node) bool {
	t, _ := countText(textOf(n))
	return t >= 200
}

// A top candidate holding less than proseRescue of the page's prose is
// replaced by the deepest element holding proseMost of it.
const proseRescue, proseMost = 0.3, 0.7

// furnitureMax is the length from which a paragraph named like a caption
// or byline is taken for text: editors paste stories into such spans.
const furnitureMax = 400

// proseKeep is the share of the page's prose from which an element named
// like furniture is kept.
const proseKeep = 0.5

// proseContainer returns the deepest element holding at least proseMost of
// the page's prose text.
func (b *body) proseContainer(n *html.Node, total int) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if s := b.st[c]; s != nil && float64(s.good) >= proseMost*float64(total) {
			if d := b.proseContainer(c, total); d != nil {
				return d
			}
			return c
		}
	}
	return nil
}
