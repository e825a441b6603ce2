// Package extract turns a news page into its article: the body text without
// the site's navigation, promos and related-story blocks, and the metadata an
// analyst needs (title, authors, dates, language, canonical URL).
//
// Metadata is read from the most trustworthy source present: JSON-LD
// (NewsArticle and friends, including @graph), then OpenGraph and Twitter
// meta tags, then <time> elements and visible bylines.
//
// The body is found in four steps:
//
//  1. Elements that never hold article text go (scripts, forms' controls,
//     hidden elements), and so does page furniture named by tag, ARIA role,
//     class or id in many languages and CMS themes (navigation, share bars,
//     cookie notices, comments, newsletter promos, related-story lists),
//     unless the element holds most of the page's prose, or holds the
//     headline (the first unlinked h1-h3 repeating at least half of the
//     title), whatever its tag or name (<aside class="blogPost">,
//     "article-header"): the furniture inside such an element is judged
//     one level down. A class naming a dialog ("modal-enabled") does not
//     remove an element holding half the page's prose.
//  2. Paragraph-like blocks are scored readability-style (length, commas,
//     link density, class hints) into their ancestors; the best container
//     wins, or, when it holds little of the page's prose, the smallest
//     element that holds most of it.
//  3. Prose-like siblings of the winner and of its ancestors join it, so a
//     story split over several containers stays whole, and so does a
//     standfirst ("lead", "abstract", "intro") that precedes it.
//  4. The selection is rendered block by block, dropping link lists,
//     captions, the headline, short lines above it (kickers, section
//     names), "Also Read"-style inserts and headings left with nothing
//     under them. A block that reads as a sentence, with 40 characters
//     outside its links, may be up to 60% link text, but only before the
//     story's last long paragraph (after it, such lines are pitches).
//
// When the result is short or holds little of the page's prose, a lenient
// pass without class-based removal is tried, and a JSON-LD articleBody is
// used when it is far longer than anything found in the markup, after the
// page's description when the page shows that as a standfirst and the
// articleBody leaves it out.
//
// TestCorpus measures the package on the trafilatura evaluation corpus
// (NEWSWATCH_EXTRACTION_DEV=../shared/eval/extraction-dev), TestCorpusGold
// on the Dragnet corpus with the scrapinghub benchmark's shingle metric
// (NEWSWATCH_EXTRACTION_DRAGNET=../shared/eval/extraction-dragnet); both
// take NEWSWATCH_EXTRACTION_HALF=a|b to score one fixed half and
// NEWSWATCH_EXTRACTION_OUT=FILE to write per-page figures.
// NEWSWATCH_EXTRACTION_BODY=1 scores the Dragnet article bodies alone, on
// the pages whose gold marks where comments start. Reader comments are left
// out on purpose: Dragnet's gold text counts them as content, the other
// corpora as noise (see BENCHMARKS.md).
package extract
