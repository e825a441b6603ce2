// Package query implements newswatch's watch query language: words and
// "quoted phrases" with AND, OR, NOT and parentheses, a case rule for
// capitalised terms, dash and possessive variants, entity aliases,
// proximity (NEAR/n, SENTENCE) and filters on title, topic, source,
// language and topic score. docs/queries.md is the user reference.
//
// A query is parsed once into an immutable AST. Text and terms are
// normalised and tokenised by pkg/scan, and every term is found through a
// scan.Machine: its raw occurrences (hits) are then checked on the tokens
// for the case rule, the punctuation between words and the field.
//
// A Set holds many queries: its Terms are one dictionary, usually compiled
// into the analyzer's machine with the topic taxonomy and the gazetteer,
// and Set.Match evaluates every query on the hits of one scan of an
// article. Query.Match is the standalone path, for the CLI and tests: each
// query compiles its own small machine on first use (or, with at most two
// patterns, finds them with bytes.Index), and Doc.Prepare normalises an
// article once for many Match calls. On a Doc that is not prepared, Match
// first checks the raw title and text (prefilter.go): an article that
// provably lacks a word the query needs is rejected, and one that provably
// has none of its terms is evaluated without them, neither normalised.
package query
