package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/newswatch/newswatch/pkg/events"
)

// decodeFast fills in from b, a JSON article as decodeMatchInput reads it,
// in one pass that validates the whole message but builds only the fields
// matching needs: encoding/json spends most of a backtest validating and
// reflecting over entities and evidence nobody reads here.
//
// It returns false for anything it does not decode exactly as
// encoding/json would: invalid JSON, a key that differs from a field's
// name only in case, a duplicate field, a value of an unexpected type, a
// string with a surrogate-pair escape or invalid UTF-8, nesting deeper than
// maxFastDepth. The caller then decodes with encoding/json, which has the
// last word, so both paths give the same article or the same error.
func (in *matchInput) decodeFast(b []byte) bool {
	d := jsonScan{b: b}
	d.ws()
	if !d.object(func(key []byte) bool {
		return in.field(&d, key)
	}) {
		return false
	}
	d.ws()
	return d.i == len(d.b)
}

// maxFastDepth bounds the nesting decodeFast follows (encoding/json allows
// 10,000 levels; analyzed articles have four).
const maxFastDepth = 64

// Known keys of matchInput and of events.Article; a key that is not one of
// them exactly but equals one case-insensitively is what encoding/json
// would match too, so decodeFast leaves such messages to it.
var (
	inputKeys   = []string{"id", "title", "text", "source", "lang", "url", "topics", "article", "story_id"}
	articleKeys = []string{"schema", "id", "revision", "feed", "feed_url", "url", "canonical_url", "guid", "title",
		"author", "source", "published_at", "lang", "summary", "text", "fetched_at", "extract_error", "text_truncated"}
	topicKeys = []string{"name", "score"}
)

// keyIndex returns the index of key in keys, -1 for a key encoding/json
// ignores, and -2 for one decodeFast cannot place: escaped, not ASCII, or
// equal to a known key in another case.
func keyIndex(key []byte, keys []string, escaped bool) int {
	if escaped {
		return -2
	}
	for i, k := range keys {
		if string(key) == k {
			return i
		}
	}
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return -2
		}
	}
	for _, k := range keys {
		if len(k) == len(key) && asciiEqualFold(key, k) {
			return -2
		}
	}
	return -1
}

func asciiEqualFold(a []byte, b string) bool {
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// field decodes the value of one top-level key.
func (in *matchInput) field(d *jsonScan, key []byte) bool {
	k := keyIndex(key, inputKeys, d.keyEscaped)
	switch {
	case k == -2:
		return false
	case k == -1:
		return d.skip()
	case d.seen&(1<<k) != 0:
		return false // a duplicate: encoding/json keeps the last, or merges objects
	}
	d.seen |= 1 << k
	switch inputKeys[k] {
	case "id":
		return d.stringInto(&in.ID)
	case "title":
		return d.stringInto(&in.Title)
	case "text":
		return d.stringInto(&in.Text)
	case "source":
		return d.stringInto(&in.Source)
	case "lang":
		return d.stringInto(&in.Lang)
	case "url":
		return d.stringInto(&in.URL)
	case "story_id":
		return d.stringInto(&in.StoryID)
	case "topics":
		return in.fastTopics(d)
	default: // article
		if d.peek() != '{' {
			return false
		}
		a := new(events.Article)
		in.Article = a
		outer := d.seen
		d.seen = 0
		ok := d.object(func(key []byte) bool { return articleField(d, a, key) })
		d.seen = outer
		return ok
	}
}

// articleField decodes the value of one key of the nested article, with
// the types of events.Article.
func articleField(d *jsonScan, a *events.Article, key []byte) bool {
	k := keyIndex(key, articleKeys, d.keyEscaped)
	switch {
	case k == -2:
		return false
	case k == -1:
		return d.skip()
	case d.seen&(1<<k) != 0:
		return false
	}
	d.seen |= 1 << k
	switch articleKeys[k] {
	case "id":
		return d.stringInto(&a.ID)
	case "title":
		return d.stringInto(&a.Title)
	case "text":
		return d.stringInto(&a.Text)
	case "source":
		return d.stringInto(&a.Source)
	case "feed":
		return d.stringInto(&a.Feed)
	case "lang":
		return d.stringInto(&a.Language)
	case "url":
		return d.stringInto(&a.URL)
	case "revision":
		if d.literal("null") {
			return true
		}
		num, ok := d.number()
		if !ok {
			return false
		}
		n, err := strconv.ParseInt(string(num), 10, 0)
		a.Revision = int(n)
		return err == nil
	case "published_at", "fetched_at":
		d.ws()
		start := d.i
		if !d.literal("null") {
			if d.peek() != '"' {
				return false
			}
			if _, _, ok := d.str(); !ok {
				return false
			}
		}
		t := &a.PublishedAt
		if articleKeys[k] == "fetched_at" {
			t = &a.FetchedAt
		}
		return t.UnmarshalJSON(d.b[start:d.i]) == nil
	case "text_truncated":
		switch {
		case d.literal("true"):
			a.TextTruncated = true
		case d.literal("false"), d.literal("null"):
		default:
			return false
		}
		return true
	case "schema":
		return d.stringInto(&a.Schema)
	case "feed_url":
		return d.stringInto(&a.FeedURL)
	case "canonical_url":
		return d.stringInto(&a.CanonicalURL)
	case "guid":
		return d.stringInto(&a.GUID)
	case "author":
		return d.stringInto(&a.Author)
	case "summary":
		return d.stringInto(&a.Summary)
	default: // extract_error
		return d.stringInto(&a.ExtractError)
	}
}

// fastTopics decodes "topics" when it is a list of names or of
// {"name","score"} objects, as decodeTopics does.
func (in *matchInput) fastTopics(d *jsonScan) bool {
	if d.peek() != '[' {
		return false // null or a name->score object: left to decodeTopics
	}
	start := d.i
	out := map[string]float64{}
	ok := d.array(func() bool {
		if d.peek() == '"' {
			var name string
			if !d.stringInto(&name) {
				return false
			}
			out[name] = 1
			return true
		}
		if d.peek() != '{' {
			return false
		}
		var name string
		score, hasScore := 0.0, false
		outer := d.seen
		d.seen = 0
		ok := d.object(func(key []byte) bool {
			k := keyIndex(key, topicKeys, d.keyEscaped)
			switch {
			case k == -2:
				return false
			case k == -1:
				return d.skip()
			case d.seen&(1<<k) != 0:
				return false
			}
			d.seen |= 1 << k
			if k == 0 {
				return d.peek() == '"' && d.stringInto(&name)
			}
			if d.literal("null") {
				return true
			}
			num, ok := d.number()
			if !ok {
				return false
			}
			v, err := strconv.ParseFloat(string(num), 64)
			score, hasScore = v, true
			return err == nil
		})
		d.seen = outer
		if !ok || name == "" {
			return false
		}
		out[name] = 1
		if hasScore {
			out[name] = score
		}
		return true
	})
	if !ok {
		return false
	}
	in.Topics = json.RawMessage(d.b[start:d.i])
	in.topics = out
	return true
}

// jsonScan reads JSON as encoding/json's scanner accepts it.
type jsonScan struct {
	b          []byte
	i          int
	depth      int
	keyEscaped bool   // the last key read had an escape
	seen       uint32 // known keys already read in the current object
}

func (d *jsonScan) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, 0 at the end.
func (d *jsonScan) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// literal consumes lit (true, false, null) if it comes next.
func (d *jsonScan) literal(lit string) bool {
	d.ws()
	if len(d.b)-d.i >= len(lit) && string(d.b[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	return false
}

// object reads an object, calling field with each key (raw, between the
// quotes; keyEscaped says whether it holds an escape) with the reader
// before its value; field must consume the value.
func (d *jsonScan) object(field func(key []byte) bool) bool {
	if d.peek() != '{' {
		return false
	}
	if d.depth++; d.depth > maxFastDepth {
		return false
	}
	d.i++
	if d.peek() == '}' {
		d.i++
		d.depth--
		return true
	}
	for {
		if d.peek() != '"' {
			return false
		}
		key, flags, ok := d.str()
		if !ok || d.peek() != ':' {
			return false
		}
		d.i++
		d.keyEscaped = flags&strEscaped != 0
		if !field(key) {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return true
		default:
			return false
		}
	}
}

// array reads an array, calling elem with the reader before each element;
// elem must consume it.
func (d *jsonScan) array(elem func() bool) bool {
	if d.peek() != '[' {
		return false
	}
	if d.depth++; d.depth > maxFastDepth {
		return false
	}
	d.i++
	if d.peek() == ']' {
		d.i++
		d.depth--
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			d.depth--
			return true
		default:
			return false
		}
	}
}

// skip reads and validates one value of any type.
func (d *jsonScan) skip() bool {
	switch c := d.peek(); {
	case c == '"':
		_, _, ok := d.str()
		return ok
	case c == '{':
		return d.object(func([]byte) bool { return d.skip() })
	case c == '[':
		return d.array(func() bool { return d.skip() })
	case c == '-' || '0' <= c && c <= '9':
		_, ok := d.number()
		return ok
	default:
		return d.literal("true") || d.literal("false") || d.literal("null")
	}
}

// number reads a number in JSON's grammar and returns its text.
func (d *jsonScan) number() ([]byte, bool) {
	d.ws()
	b, i := d.b, d.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	d.i = i
	return b[start:i], true
}

const (
	strEscaped  = 1 << iota // holds a backslash escape
	strNonASCII             // holds a byte >= 0x80
)

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// str reads a string at d.i (at its opening quote) and returns its raw
// content between the quotes. It checks what encoding/json's scanner
// checks: no control characters, valid escapes.
func (d *jsonScan) str() ([]byte, uint8, bool) {
	b := d.b
	i := d.i + 1
	start := i
	var flags uint8
	for {
		// Eight bytes at a time while none is a quote, a backslash, a
		// control character or outside ASCII: nearly all of an article.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (swarOnes * '"')
			s := x ^ (swarOnes * '\\')
			if ((x-swarOnes*0x20)&^x|(q-swarOnes)&^q|(s-swarOnes)&^s|x)&swarHigh != 0 {
				break
			}
			i += 8
		}
		if i >= len(b) {
			return nil, 0, false
		}
		switch c := b[i]; {
		case c == '"':
			d.i = i + 1
			return b[start:i], flags, true
		case c == '\\':
			flags |= strEscaped
			if i+1 >= len(b) {
				return nil, 0, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return nil, 0, false
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						return nil, 0, false
					}
				}
				i += 6
			default:
				return nil, 0, false
			}
		case c < 0x20:
			return nil, 0, false
		case c >= utf8.RuneSelf:
			flags |= strNonASCII
			i++
		default:
			i++
		}
	}
}

func isHex(c byte) bool { return hexValue[c] != 0 || c == '0' }

// hexValue is the value of each hexadecimal digit, 0 for other bytes.
var hexValue = func() (v [256]byte) {
	for c := range 256 {
		switch {
		case '0' <= c && c <= '9':
			v[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			v[c] = byte(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			v[c] = byte(c - 'A' + 10)
		}
	}
	return v
}()

// stringInto reads a string or null (which leaves *dst as it is, as
// encoding/json does) into *dst.
func (d *jsonScan) stringInto(dst *string) bool {
	if d.literal("null") {
		return true
	}
	if d.peek() != '"' {
		return false
	}
	raw, flags, ok := d.str()
	if !ok {
		return false
	}
	if flags&strNonASCII != 0 && !utf8.Valid(raw) {
		return false // encoding/json replaces invalid bytes with U+FFFD; let it
	}
	if flags&strEscaped == 0 {
		*dst = string(raw)
		return true
	}
	str, ok := unescape(raw)
	if ok {
		*dst = str
	}
	return ok
}

// unescape returns raw, the validated content of a JSON string, with its
// escapes decoded, in one allocation. It returns false for a \u escape of
// a UTF-16 surrogate, whose pairing rules it leaves to encoding/json.
func unescape(raw []byte) (string, bool) {
	var b strings.Builder
	b.Grow(len(raw)) // an escape is never shorter than what it stands for
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := bytes.IndexByte(raw[i:], '\\')
			if j < 0 {
				b.Write(raw[i:])
				break
			}
			b.Write(raw[i : i+j])
			i += j
			continue
		}
		switch e := raw[i+1]; e {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := rune(0)
			for _, h := range raw[i+2 : i+6] {
				r = r<<4 | rune(hexValue[h])
			}
			if 0xd800 <= r && r < 0xe000 {
				return "", false
			}
			b.WriteRune(r)
			i += 6
			continue
		default: // '"', '\\', '/'
			b.WriteByte(e)
		}
		i += 2
	}
	return b.String(), true
}
