// Package extract turns a news page into its article: the body text without
// the site's navigation, promos and related-story blocks, and the metadata an
// analyst needs (title, authors, dates, language, canonical URL).
//
// Metadata is read from the most trustworthy source present: JSON-LD
// (NewsArticle and friends, including @graph), then OpenGraph and Twitter
// meta tags, then <time> elements and visible bylines.
//
// The body is found by scoring blocks of text the way readability-style
// extractors do (text length, commas, link density, paragraph structure and
// class/id hints in many languages), after removing elements that are
// boilerplate on almost every site (navigation, sharing bars, cookie notices,
// comments, newsletter promos). The chosen container is then rendered block
// by block, dropping link lists and "Also Read"-style inserts.
package extract
