package topics

import (
	"encoding/binary"

	"github.com/newswatch/newswatch/pkg/scan"
	"github.com/newswatch/newswatch/pkg/wordclust"
)

// Word features at inference. extract names a word feature by hashing the
// folded word into its key (FNV-1a of "w:word", as featureKey hashes the
// model's names) and looks the key up in the model's index; done per word
// of every part, that hashing, one multiplication per byte, and the lookup
// were about a quarter of the analyzer's instructions. At inference only
// the model's row matters, so each token is resolved to its rows once per
// article (resolveTokens), through a cache keyed by a hash of the token's
// bytes taken eight at a time; a miss resolves the token exactly as extract
// does (wordKey, then the index), so the rows are the same by
// construction (a hit trusts the 64-bit hash: two distinct tokens share
// one with probability about 2^-64). A word pair is resolved from the rows
// of its two words, through a cache keyed by those rows.

// tokenRows are a token's rows: of its word feature and of its title-word
// feature, -1 where the model has none, and the word's place in the
// model's word pairs.
type tokenRows struct {
	word, title int32
	cluster     int32 // the word's index in the word clusters, -1 for none or when the model reads no clusters
	pair        uint8 // the word's learned.pair bits
}

// tokCacheBits sizes scratch's cache of resolved tokens: 4,096 slots of
// 24 bytes (96 KB), in sets of two. An article repeats most words, and the
// cache keeps them, and those of the articles before it, out of the
// model's index.
const tokCacheBits = 12

type tokCacheSlot struct {
	hash uint64 // tokenHash of the token's bytes; 0: empty
	rows tokenRows
}

// pairCacheBits sizes scratch's cache of resolved word pairs: 4,096
// slots of 16 bytes, in sets of two.
const pairCacheBits = 12

type pairCacheSlot struct {
	key uint64 // the two words' rows, with the top bit set; 0: empty
	row int32  // -1: the model has no such pair
}

// tokenHash hashes the token buf[start:end] eight bytes at a time, the
// last ones loaded with the bytes after the token masked off when the
// buffer has them: each step is a bijection of the state mixed with the
// next eight bytes, and the length goes in first, so distinct tokens
// collide with probability about 2^-64. A token of up to eight bytes, nearly
// every one, takes one load and one multiplication.
func tokenHash(buf []byte, start, end int) uint64 {
	if n := uint(end - start); n <= 8 && start+8 <= len(buf) {
		h := (uint64(n)*0x9E3779B97F4A7C15 + 1 ^ binary.LittleEndian.Uint64(buf[start:])&tailMask[n]) * 0x94D049BB133111EB
		return h ^ h>>29
	}
	return tokenHashLong(buf, start, end)
}

// tailMask[n] keeps the first n bytes of a little-endian load.
var tailMask = [9]uint64{0, 1<<8 - 1, 1<<16 - 1, 1<<24 - 1, 1<<32 - 1, 1<<40 - 1, 1<<48 - 1, 1<<56 - 1, ^uint64(0)}

// tokenHashLong is tokenHash of any token.
func tokenHashLong(buf []byte, start, end int) uint64 {
	h := uint64(end-start)*0x9E3779B97F4A7C15 + 1
	p := start
	for ; end-p > 8; p += 8 {
		h = (h ^ binary.LittleEndian.Uint64(buf[p:])) * 0xBF58476D1CE4E5B9
		h ^= h >> 31
	}
	var t uint64
	if p+8 <= len(buf) {
		t = binary.LittleEndian.Uint64(buf[p:]) & (^uint64(0) >> (64 - 8*uint(end-p)))
	} else {
		for i := end - 1; i >= p; i-- {
			t = t<<8 | uint64(buf[i])
		}
	}
	h = (h ^ t) * 0x94D049BB133111EB
	return h ^ h>>29
}

// wordRowsReady reports whether collect may take word features from
// sc.tokRows: at inference (known, the model's index), with every token
// of the article resolved by resolveTokens.
func (c *Classifier) wordRowsReady(sc *scratch, known *keyIndex) bool {
	return known != nil && known == &c.model.index && sc.tokReady
}

// resolveTokens resolves the tokens of d's counted sentences into
// sc.tokRows, the rows collect reads at inference.
func (c *Classifier) resolveTokens(d *scan.Doc, sc *scratch) {
	m := c.model
	if cap(sc.tokRows) < len(d.Tokens) {
		sc.tokRows = make([]tokenRows, len(d.Tokens), len(d.Tokens)+len(d.Tokens)/4)
	}
	sc.tokRows = sc.tokRows[:len(d.Tokens)]
	if sc.tokCache == nil || sc.tokCacheFor != m {
		if sc.tokCache == nil {
			sc.tokCache = make([]tokCacheSlot, 1<<tokCacheBits)
			sc.pairCache = make([]pairCacheSlot, 1<<pairCacheBits)
		} else {
			clear(sc.tokCache)
			clear(sc.pairCache)
		}
		sc.tokCacheFor = m
	}
	cache := sc.tokCache[:1<<tokCacheBits]
	for s := range d.Sentences {
		if !counted(d, sc, s) {
			continue
		}
		sn := &d.Sentences[s]
		for ti := sn.FirstToken; ti < sn.EndToken; ti++ {
			t := &d.Tokens[ti]
			h := tokenHash(d.Buf, int(t.NStart), int(t.NEnd))
			// Two ways: the slot pair of h, the newer entry first.
			i := (h >> (64 - tokCacheBits)) &^ 1
			set := cache[i : i+2 : i+2]
			switch {
			case set[0].hash == h && h != 0:
				sc.tokRows[ti] = set[0].rows
			case set[1].hash == h && h != 0:
				sc.tokRows[ti] = set[1].rows
			default:
				set[1] = set[0]
				set[0] = tokCacheSlot{hash: h, rows: m.resolveToken(d.Buf[t.NStart:t.NEnd], c.clusters)}
				sc.tokRows[ti] = set[0].rows
			}
		}
	}
	sc.tokReady = true
}

// resolveToken looks a token's word and title-word features up as
// collect does.
func (l *learned) resolveToken(tok []byte, cl *wordclust.Clusters) tokenRows {
	folded, key := wordKey(fnvString(fnvOffset, prefixWord), tok, &l.opts)
	r := tokenRows{word: -1, title: -1, cluster: -1}
	if l.opts.Clusters {
		if i, ok := cl.Index(tok); ok {
			r.cluster = i
		}
	}
	if row, ok := l.index.lookup(key); ok {
		r.word, r.pair = row, l.pair[row]
	}
	if row, ok := l.index.lookup(fnvBytes(fnvString(fnvOffset, prefixTitle), folded)); ok {
		r.title = row
	}
	return r
}

// pairRow is the row of the word pair of tokens curTok-1 and curTok,
// whose rows are prev and cur (both words known), or false when the model
// has none: the key extract would hash, looked up in the index, cached by
// the two words' rows.
func (c *Classifier) pairRow(d *scan.Doc, sc *scratch, prev, cur *tokenRows, curTok int32) (int32, bool) {
	key := uint64(prev.word)<<32 | uint64(cur.word) | 1<<63
	i := ((key * 0x9E3779B97F4A7C15) >> (64 - pairCacheBits)) &^ 1
	set := sc.pairCache[i : i+2 : i+2] // two ways, the newer first
	switch key {
	case set[0].key:
		return set[0].row, set[0].row >= 0
	case set[1].key:
		return set[1].row, set[1].row >= 0
	}
	o := &c.model.opts
	pt, ct := &d.Tokens[curTok-1], &d.Tokens[curTok]
	_, prevKey := wordKey(fnvString(fnvOffset, prefixWord), d.Buf[pt.NStart:pt.NEnd], o)
	folded, _ := wordKey(0, d.Buf[ct.NStart:ct.NEnd], o)
	row, ok := c.model.index.lookup(fnvBytes(fnvBytes(prevKey, space), folded))
	if !ok {
		row = -1
	}
	set[1] = set[0]
	set[0] = pairCacheSlot{key: key, row: row}
	return row, row >= 0
}

// appendWordRows appends the word, title-word and word-pair features of
// sentences lo..hi-1 to fv from sc.tokRows, in the order and with the
// values collect's own loop gives them (the key is left zero: inference
// reads rows), but only the first occurrence of each: every value is 1,
// so dedupeRows would keep exactly these, and a long part's list stays
// the size of its vocabulary.
func (c *Classifier) appendWordRows(d *scan.Doc, sc *scratch, o *FeatureOptions, lo, hi int, fv []fval) []fval {
	sc.newStampGen(c.model)
	stamp, gen := sc.rowStamp, sc.stampGen
	first := func(row int32) bool {
		if stamp[row] == gen {
			return false
		}
		stamp[row] = gen
		return true
	}
	rows := sc.tokRows
	for s := lo; s < hi; s++ {
		if !counted(d, sc, s) {
			continue
		}
		sn := &d.Sentences[s]
		title := o.TitleWords && sn.Field == scan.FieldTitle
		var prev *tokenRows // the previous token when its word is known
		for ti := sn.FirstToken; ti < sn.EndToken; ti++ {
			r := &rows[ti]
			if r.word < 0 {
				if title && r.title >= 0 && first(r.title) {
					fv = append(fv, fval{val: 1, span: int32(s), hit: -1, row: r.title, kind: fvWord})
				}
				if r.cluster >= 0 {
					fv = c.appendClusterRows(r.cluster, int32(s), sn.Field == scan.FieldTitle, first, fv)
				}
				prev = nil
				continue
			}
			if first(r.word) {
				fv = append(fv, fval{val: 1, span: int32(s), hit: -1, row: r.word, kind: fvWord})
			}
			if title && r.title >= 0 && first(r.title) {
				fv = append(fv, fval{val: 1, span: int32(s), hit: -1, row: r.title, kind: fvWord})
			}
			if o.Bigrams && prev != nil && prev.pair&pairFirst != 0 && r.pair&pairSecond != 0 {
				if row, ok := c.pairRow(d, sc, prev, r, ti); ok && first(row) {
					fv = append(fv, fval{val: 1, span: int32(s), hit: -1, row: row, kind: fvWord})
				}
			}
			if r.cluster >= 0 {
				fv = c.appendClusterRows(r.cluster, int32(s), sn.Field == scan.FieldTitle, first, fv)
			}
			prev = r
		}
	}
	return fv
}

// newStampGen starts a part for sumWordRows, addRows and dedupeRows: a
// feature counts once per part, at its first occurrence.
func (sc *scratch) newStampGen(l *learned) {
	if len(sc.rowStamp) != len(l.names) {
		sc.rowStamp = make([]uint32, len(l.names))
		sc.rowAt = make([]int32, len(l.names))
		sc.stampGen = 0
	}
	sc.stampGen++
	if sc.stampGen == 0 {
		clear(sc.rowStamp)
		sc.stampGen = 1
	}
}

// addRows adds to the log-odds in out weight times value of each feature
// of fv whose row the part has not counted yet (the first occurrence
// counts, as passageProbabilities always did).
func (sc *scratch) addRows(l *learned, fv []fval, out []float64) {
	stamp, gen, w, nt := sc.rowStamp, sc.stampGen, l.w, len(out)
	for i := range fv {
		row := fv[i].row
		if stamp[row] == gen {
			continue
		}
		stamp[row] = gen
		if v := fv[i].val; v != 1 {
			for ti, x := range w[int(row)*nt : int(row)*nt+nt] {
				out[ti] += x * v
			}
			continue
		}
		addWeights(out, w, row) // x*1 is x
	}
}

// addWeights adds row's weights (w holds len(out) per row) to out, each
// topic's in turn; two topics, the built-in model's, take no loop.
func addWeights(out, w []float64, row int32) {
	if len(out) == 2 {
		r := w[2*int(row):][:2]
		out[0] += r[0]
		out[1] += r[1]
		return
	}
	nt := len(out)
	for ti, x := range w[int(row)*nt : int(row)*nt+nt] {
		out[ti] += x
	}
}

// sumWordRows is appendWordRows summed: it adds to the log-odds in out
// the weights of the word features of sentences lo..hi-1 that the part
// has not counted yet, in the order appendWordRows lists them.
func (c *Classifier) sumWordRows(d *scan.Doc, sc *scratch, o *FeatureOptions, lo, hi int, out []float64) {
	stamp, gen, w := sc.rowStamp, sc.stampGen, c.model.w
	add := func(row int32) {
		if stamp[row] == gen {
			return
		}
		stamp[row] = gen
		addWeights(out, w, row)
	}
	rows := sc.tokRows
	for s := lo; s < hi; s++ {
		if !counted(d, sc, s) {
			continue
		}
		sn := &d.Sentences[s]
		title := o.TitleWords && sn.Field == scan.FieldTitle
		var prev *tokenRows
		for ti := sn.FirstToken; ti < sn.EndToken; ti++ {
			r := &rows[ti]
			if r.word < 0 {
				if title && r.title >= 0 {
					add(r.title)
				}
				if r.cluster >= 0 {
					c.sumClusterRows(r.cluster, sn.Field == scan.FieldTitle, add)
				}
				prev = nil
				continue
			}
			add(r.word)
			if title && r.title >= 0 {
				add(r.title)
			}
			if o.Bigrams && prev != nil && prev.pair&pairFirst != 0 && r.pair&pairSecond != 0 {
				if row, ok := c.pairRow(d, sc, prev, r, ti); ok {
					add(row)
				}
			}
			if r.cluster >= 0 {
				c.sumClusterRows(r.cluster, sn.Field == scan.FieldTitle, add)
			}
			prev = r
		}
	}
}

// appendClusterRows appends the cluster features of the word whose index
// in the word clusters is i, in the order clusterFeatures lists them,
// those first in the part only.
func (c *Classifier) appendClusterRows(i, span int32, title bool, first func(int32) bool, fv []fval) []fval {
	for j, id := range c.clusters.IDs(i) {
		if row := c.rows.cluster[j][id]; row >= 0 && first(row) {
			fv = append(fv, fval{val: 1, span: span, hit: -1, row: row, kind: fvCluster})
		}
		if title {
			if row := c.rows.titleCluster[j][id]; row >= 0 && first(row) {
				fv = append(fv, fval{val: 1, span: span, hit: -1, row: row, kind: fvCluster})
			}
		}
	}
	return fv
}

// sumClusterRows adds the cluster features of the word whose index in the
// word clusters is i.
func (c *Classifier) sumClusterRows(i int32, title bool, add func(int32)) {
	for j, id := range c.clusters.IDs(i) {
		if row := c.rows.cluster[j][id]; row >= 0 {
			add(row)
		}
		if title {
			if row := c.rows.titleCluster[j][id]; row >= 0 {
				add(row)
			}
		}
	}
}
