package story

import (
	"math/bits"

	"github.com/newswatch/newswatch/pkg/scan"
)

// MinHash parameters. A signature holds NumHashes minimum hashes, enough
// that the similarity estimate's standard error is about 0.04 near the
// threshold. The LSH index keys the first Bands*Rows of them in Bands bands
// of Rows rows: a pair whose shingle sets have Jaccard similarity J shares at
// least one band with probability 1-(1-J^2)^Bands, which is 0.87 at J=0.25,
// 0.95 at 0.3, 0.996 at 0.4 and 0.27 at J=0.1 (a false candidate costs one
// extra KV get, nothing more). docs/entities.md has the reasoning.
const (
	NumHashes = 128
	Rows      = 2
	Bands     = 32
	// shingleWords is the shingle length. Three-word shingles keep two
	// stories about the same event apart (they share names, not sentences)
	// while a rewrite keeps most of its sentences' word triples.
	shingleWords = 3
)

// Signature is a MinHash sketch of an article's word shingles.
type Signature struct {
	Mins [NumHashes]uint32
	// Shingles is how many shingles the text had; zero means there was
	// nothing to compare and the signature matches nothing.
	Shingles int
}

// Fingerprint computes the MinHash signature of the three-word shingles of
// the title and text as pkg/scan normalises them (case folded, NFKC,
// punctuation, quotes and white space between words ignored); word order
// matters. It normalises the article itself: the analyzer, which has
// already normalised it, calls FingerprintDoc.
func Fingerprint(title, text string) Signature {
	var d scan.Doc
	d.Normalize(title, text)
	return FingerprintDoc(&d)
}

// FingerprintDoc is Fingerprint of an article already normalised.
func FingerprintDoc(d *scan.Doc) Signature {
	var sig Signature
	for i := range sig.Mins {
		sig.Mins[i] = ^uint32(0)
	}
	var window [shingleWords]uint64
	words := 0
	for _, t := range d.Tokens {
		copy(window[:], window[1:])
		window[shingleWords-1] = wordHash(d.Buf[t.NStart:t.NEnd])
		words++
		if words >= shingleWords {
			sig.addShingle(shingleHash(window[:]))
		}
	}
	if words > 0 && words < shingleWords {
		// A text of one or two words is its own single shingle.
		sig.addShingle(shingleHash(window[shingleWords-words:]))
	}
	return sig
}

// hashMul and hashAdd define the NumHashes hash functions of a signature:
// multiply-add-shift hashing, h_i(x) = (hashMul[i]*x + hashAdd[i]) >> 32
// over the mixed 64-bit shingle hash x, with odd multipliers and offsets
// from a fixed splitmix64 sequence. One multiply and add per function,
// where a full mix per function cost four times as much CPU.
var hashMul, hashAdd = func() (m, a [NumHashes]uint64) {
	x := uint64(0x5eed5eed5eed5eed)
	for i := range m {
		x += 0x9e3779b97f4a7c15
		m[i] = mix64(x) | 1
		x += 0x9e3779b97f4a7c15
		a[i] = mix64(x)
	}
	return m, a
}()

func (sig *Signature) addShingle(h uint64) {
	sig.Shingles++
	x := mix64(h)
	for i := range sig.Mins {
		if v := uint32((x*hashMul[i] + hashAdd[i]) >> 32); v < sig.Mins[i] {
			sig.Mins[i] = v
		}
	}
}

// Similarity estimates the Jaccard similarity of the two articles' shingle
// sets: the fraction of hash functions whose minima agree.
func Similarity(a, b Signature) float64 {
	if a.Shingles == 0 || b.Shingles == 0 {
		return 0
	}
	same := 0
	for i := range a.Mins {
		if a.Mins[i] == b.Mins[i] {
			same++
		}
	}
	return float64(same) / NumHashes
}

// bandHash is the LSH key of band i of the signature.
func (sig *Signature) bandHash(i int) uint64 { return bandHash(&sig.Mins, i) }

func bandHash(mins *[NumHashes]uint32, i int) uint64 {
	h := uint64(i) + 1
	for _, m := range mins[i*Rows : (i+1)*Rows] {
		h = mix64(h ^ uint64(m))
	}
	return h
}

// wordHash is FNV-1a of a normalised word, good enough to tell words apart
// before mixing.
func wordHash(w []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range w {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

func shingleHash(words []uint64) uint64 {
	h := uint64(0x243f6a8885a308d3)
	for _, w := range words {
		h = mix64(bits.RotateLeft64(h, 17) ^ w)
	}
	return h
}

// mix64 is the splitmix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
