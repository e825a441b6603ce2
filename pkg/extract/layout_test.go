package extract_test

import (
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/extract"
)

// story is made-up article prose: sentences long enough to read as
// paragraphs, each with a number so a missing one is easy to name.
func story(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("<p>Paragraph " + string(rune('A'+i)) + " of the story says that the council met on Tuesday, " +
			"that the budget for the new bridge was approved after a long debate, and that work will start in spring.</p>\n")
	}
	return b.String()
}

const navAndFooter = `<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li></ul></nav>`

// TestLayouts covers page layouts where a container's name or tag says
// furniture but its content says article, and the reverse.
func TestLayouts(t *testing.T) {
	tests := []struct {
		name       string
		page       string
		want, drop []string
	}{
		{
			name: "post in an aside that holds the headline",
			page: `<html><head><title>Council approves the new bridge budget</title></head><body>` + navAndFooter +
				`<section id="content"><aside class="blogPost"><h1>Council approves the new bridge budget</h1>
				<div class="blogContent">` + story(4) + `</div></aside>
				<section id="side"><h2>Archive</h2><ul><li><a href="/1">May</a></li><li><a href="/2">June</a></li></ul></section></section>
				<footer>Copyright 2012 Example Town News, all rights reserved.</footer></body></html>`,
			want: []string{"Paragraph A of the story", "Paragraph D of the story"},
			drop: []string{"Copyright 2012"},
		},
		{
			name: "a linked site name is no headline: the sidebar bio stays out",
			page: `<html><head><title>townblog</title></head><body><div id="content">
				<div id="main"><div class="post"><h3 class="post-title">Bridge news</h3>
				<div class="post-body">The council approved the bridge budget today, after a long debate.<br>
				Work will start in spring, the mayor said, and the bridge should open two years later.<br>
				Some residents who spoke at the meeting worried about traffic on the old road meanwhile.</div></div></div>
				<div id="sidebar"><h1 id="blog-title"><a href="/">townblog</a></h1>
				<div id="profile">` + strings.Repeat("I write about my town, its people, its history and its politics, and I have done so for many years now. ", 8) + `</div>
				</div></div></body></html>`,
			want: []string{"approved the bridge budget today"},
			drop: []string{"I write about my town"},
		},
		{
			name: "a story pasted into a byline span",
			page: `<html><head><title>Bridge budget</title></head><body>` + navAndFooter +
				`<div class="post"><h3>Bridge budget</h3><div class="post-body"><span class="byline-author">` +
				strings.Repeat("The council approved the bridge budget after a long debate about costs, and work will start in spring. ", 6) +
				`</span></div></div></body></html>`,
			want: []string{"The council approved the bridge budget after a long debate"},
		},
		{
			name: "posts wrapped in a date container",
			page: `<html><head><title>Bridge budget</title></head><body>` + navAndFooter +
				`<div class="blog-posts"><div class="date-outer"><h2 class="date-header">Sunday, November 04, 2012</h2>
				<div class="date-posts"><div class="post"><h3 class="post-title">Bridge budget</h3>
				<div class="post-body">The council approved the bridge budget, after a long debate about costs.<br>
				Work on the bridge will start in spring, the mayor said, and should take two years.<br>
				Residents who spoke at the meeting were divided, with some worried about traffic.</div></div></div></div></div>
				<div id="sidebar"><h2>Links</h2><ul><li><a href="/a">A blog</a></li><li><a href="/b">B blog</a></li></ul></div></body></html>`,
			want: []string{"The council approved the bridge budget", "Residents who spoke at the meeting"},
			drop: []string{"Sunday, November 04, 2012", "B blog"},
		},
		{
			name: "an article whose class names a dialog but which holds the story",
			page: `<html><head><title>Bridge budget</title></head><body>` + navAndFooter +
				`<div id="main" role="main"><h1>Bridge budget</h1><div class="box article modal-enabled">
				<div class="entry-content">` + story(3) + `</div></div>
				<ul class="more">` + strings.Repeat(`<li><a href="/more">Another story from Example Town that readers liked this week</a></li>`, 10) + `</ul></div>
				<div class="modal login-modal"><p>Log in to your account to comment on the stories you read.</p></div></body></html>`,
			want: []string{"Paragraph A of the story", "Paragraph C of the story"},
			drop: []string{"Log in to your account"},
		},
		{
			name: "a sentence with many links stays inside the story, not after it",
			page: `<html><head><title>Bridge budget</title></head><body>` + navAndFooter +
				`<article><h1>Bridge budget</h1>
				<p>Well, I am happy to say that after months of waiting <a href="/a">the new bridge budget</a> for <a href="/b">Example Town</a> is finally here.</p>` +
				story(3) + `<p>Write to us <a href="/letters">through the letters form</a> or <a href="/nl">in our newsletter</a> today.</p>
				</article></body></html>`,
			want: []string{"after months of waiting the new bridge budget", "Paragraph C of the story"},
			drop: []string{"Write to us"},
		},
		{
			name: "a standfirst that JSON-LD articleBody leaves out",
			page: `<html><head><title>Bridge budget</title>
				<meta property="og:description" content="The council approved the bridge budget after a long debate, and work starts in spring.">
				<script type="application/ld+json">{"@type":"NewsArticle","headline":"Bridge budget","articleBody":"` +
				strings.Repeat("Paragraph of the full story, which readers see only after they subscribe, about the bridge and its costs. ", 12) +
				`"}</script></head><body>` + navAndFooter + `<main><header><h1>Bridge budget</h1>
				<p>The council approved the bridge budget after a long debate, and work starts in spring.</p></header>
				<div class="paywall"><p>Subscribe to read on.</p></div></main></body></html>`,
			want: []string{"The council approved the bridge budget after a long debate", "Paragraph of the full story"},
		},
		{
			name: "the article's header, named like furniture, holds the standfirst; its kicker goes",
			page: `<html><head><title>Council approves the bridge budget | Example Town News</title></head><body>` + navAndFooter +
				`<div class="page"><article><div class="row article-header"><div class="kicker">Town politics</div>
				<h1>Council approves the bridge budget</h1>
				<p class="subtitle">After a long debate the council said yes to the new bridge, which should open in two years.</p>
				<div class="share-bar"><a href="/share">Share</a></div></div>
				<div class="article-body">` + story(5) + `</div></article>
				<div class="sidebar"><h2>Most read</h2><ul><li><a href="/1">Fire at the mill</a></li><li><a href="/2">New mayor</a></li></ul></div></div></body></html>`,
			want: []string{"After a long debate the council said yes", "Paragraph E of the story"},
			drop: []string{"Town politics", "Share", "Fire at the mill"},
		},
		{
			name: "a short line above the headline is a kicker",
			page: `<html><head><title>Council approves the bridge budget</title></head><body>` + navAndFooter +
				`<article><div class="label">Town politics</div><h1>Council approves the bridge budget</h1>` + story(4) +
				`</article></body></html>`,
			want: []string{"Paragraph A of the story", "Paragraph D of the story"},
			drop: []string{"Town politics"},
		},
		{
			name: "a heading as long as a paragraph is a standfirst, even before a dropped line",
			page: `<html><head><title>Council approves the bridge budget</title></head><body>` + navAndFooter +
				`<article><h1>Council approves the bridge budget</h1>
				<h2>During a long meeting on Tuesday the town council approved the budget for the new bridge over the river, which should open in two years.</h2>
				<h3>See also: <a href="/bridge-history">The history of the old bridge</a></h3>` + story(4) +
				`</article></body></html>`,
			want: []string{"During a long meeting on Tuesday the town council", "Paragraph D of the story"},
			drop: []string{"The history of the old bridge"},
		},
		{
			name: "a dateline span opening a paragraph is part of its sentence",
			page: `<html><head><title>Bridge budget</title></head><body>` + navAndFooter +
				`<article><h1>Bridge budget</h1><p><span class="dateline">EXAMPLE TOWN – </span>The council approved the budget for the new bridge on Tuesday, after a long debate.</p>` +
				story(3) + `<p class="dateline">Posted 3 March 2021</p></article></body></html>`,
			want: []string{"EXAMPLE TOWN – The council approved", "Paragraph C of the story"},
			drop: []string{"Posted 3 March"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := extract.New().Extract([]byte(tt.page), "https://town.example/2012/11/bridge.html")
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Text, w) {
					t.Errorf("text lacks %q:\n%s", w, res.Text)
				}
			}
			for _, d := range tt.drop {
				if strings.Contains(res.Text, d) {
					t.Errorf("text holds %q:\n%s", d, res.Text)
				}
			}
		})
	}
}
