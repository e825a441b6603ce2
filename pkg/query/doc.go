// Package query implements newswatch's watch query language: words and
// "quoted phrases" with AND, OR, NOT and parentheses, a case rule for
// capitalised terms, dash and possessive variants, entity aliases,
// proximity (NEAR/n, SENTENCE) and filters on title, topic, source,
// language and topic score. docs/queries.md is the user reference.
//
// A query is parsed once into an immutable AST; a document's title and
// text are tokenised and normalised once (see Doc.Prepare) so that many
// watches can be matched against the same article cheaply.
package query
