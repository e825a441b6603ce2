// Package peers runs two other Go article extractors, go-trafilatura and
// go-readability, behind the same command-line contract as
// `newswatch extract`, so one scorer can compare all three on the same pages.
//
// TestCorpusGoldBody scores both on the Dragnet article bodies (the pages
// whose gold text marks where comments start) when
// NEWSWATCH_EXTRACTION_DRAGNET names the extraction-dragnet directory.
//
// It is a separate module (bench/peers/go.mod) so the product never depends
// on the peers; nothing in the main module imports it.
package peers
