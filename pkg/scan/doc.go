// Package scan normalises an article once and finds every term of every
// dictionary the analyzer knows (the topic taxonomy, the entity gazetteer
// and the analysts' watches) in one pass of one Aho-Corasick automaton.
//
// Normalisation (Doc.Normalize) lower-cases the title and text, applies
// NFKC to words with non-ASCII letters, drops soft hyphens and zero-width
// characters inside words, and turns every run of punctuation, dashes,
// quotes and white space between two words into one space. Sentence ends
// become a newline, which no term contains, so no term matches across two
// sentences or across title and text. The upper-case word "US" becomes
// "u s", like "U.S.", so that the pronoun "us" never names the country.
//
// Every normalised word is a Token that remembers where it sits in the
// original title or text, what separated it from the word before (a space,
// a dash, other punctuation, or nothing) and its sentence. Dictionary
// owners compile their terms with the same normalisation (NormalizeTerm),
// get raw occurrences from Machine.Scan, and apply their own rules on the
// tokens: case for acronyms, dash variants, evidence sentences.
package scan
