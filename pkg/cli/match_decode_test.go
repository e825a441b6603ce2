package cli

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/pkg/events"
)

// checkFastDecode fails t unless decodeFast either declines b or decodes
// it exactly as encoding/json does; it reports whether it decoded.
func checkFastDecode(t *testing.T, b []byte) bool {
	t.Helper()
	var fast matchInput
	ok := fast.decodeFast(b)
	slow, err := decodeMatchInputSlow(b)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("decodeFast accepted what encoding/json rejects (%v):\n%s", err, b)
	}
	fast.finish()
	if !reflect.DeepEqual(&fast, slow) {
		t.Fatalf("decodeFast and encoding/json differ on\n%s\nfast: %+v\nslow: %+v", b, fast, *slow)
	}
	return true
}

func marshalAnalyzed(t testing.TB, a events.AnalyzedArticle) []byte {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// What the analyzer writes decodes on the fast path, identically.
func TestDecodeFastAnalyzed(t *testing.T) {
	full := analyzed("a1", 2, "s1", "The Hindu", `India & US: "MQ-9B" <deal>`,
		"First line.\nSecond line with tabs\tand a quote \" and a backslash \\.\n"+
			"Unicode: Zürich, ＭＱ－９Ｂ, Київ, 中文。 Emoji 🚁 and \u2028 separator, soft\u00adhyphen.",
		events.Topic{Name: "defence-cooperation", Score: 0.91, Threshold: 0.5,
			Evidence: []events.Evidence{{Term: "MQ-9B", Weight: 1.5, Field: "title", Sentence: "x"}}},
		events.Topic{Name: "terrorism", Score: 1e-9})
	full.Entities = []events.Entity{{Name: "MQ-9B", Type: "system", Mentions: []events.Mention{{Field: "text", Start: 1, End: 5, Text: "MQ-9B"}}}}
	full.Watches = &events.WatchResults{Revision: 7, Set: "abc", Matches: []events.WatchMatch{{WatchID: "w", Terms: []events.MatchedTerm{{Term: "x"}}}}}
	full.AnalyzedAt = time.Date(2026, 12, 6, 1, 2, 3, 456, time.FixedZone("IST", 19800))
	full.Article.TextTruncated = true
	full.Article.Language = "en-IN"
	bare := analyzed("a2", 0, "", "", "", "")
	bare.Article.PublishedAt = time.Time{}
	for name, a := range map[string]events.AnalyzedArticle{"full": full, "bare": bare} {
		t.Run(name, func(t *testing.T) {
			if !checkFastDecode(t, marshalAnalyzed(t, a)) {
				t.Fatal("decodeFast declined an analyzed article as the analyzer writes it")
			}
		})
	}
}

// Inputs decodeFast must decline, or decode as encoding/json does.
func TestDecodeFastEdges(t *testing.T) {
	cases := []struct {
		name, in string
		fast     bool // decodeFast should decode it itself
	}{
		{"flat", `{"id":"a","title":"t","text":"x","source":"s","lang":"en","url":"u","topics":["a","b"]}`, true},
		{"whitespace", " \t\n{ \"id\" : \"a\" , \"topics\" : [ { \"name\" : \"x\" , \"score\" : -1.5e-3 } ] }\r\n", true},
		{"null fields", `{"id":null,"title":"t","article":{"title":null,"revision":null,"published_at":null,"text_truncated":null}}`, true},
		{"unknown keys of every type", `{"id":"a","x":[1,true,false,null,{"y":"\u00e9\n"},[]],"z":-0,"w":{}}`, true},
		{"escapes", `{"id":"a","text":"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac"}`, true},
		{"surrogate pair", `{"id":"a","text":"\ud83d\ude81"}`, false},
		{"lone surrogate", `{"id":"a","text":"\ud83d x"}`, false},
		{"invalid utf-8", "{\"id\":\"a\",\"text\":\"\xff\xfe\"}", false},
		{"key in other case", `{"ID":"a","Title":"t"}`, false},
		{"key with escape", `{"\u0069d":"a"}`, false},
		{"key with kelvin sign", `{"\u212aey":"a","id":"b"}`, false},
		{"duplicate key", `{"id":"a","id":"b"}`, false},
		{"duplicate article", `{"article":{"id":"a"},"article":{"title":"t"}}`, false},
		{"topics as object", `{"id":"a","topics":{"x":0.5}}`, false},
		{"topics null", `{"id":"a","topics":null}`, false},
		{"topic without name", `{"id":"a","topics":[{"score":1}]}`, false},
		{"topic score null", `{"id":"a","topics":[{"name":"x","score":null}]}`, true},
		{"topic score string", `{"id":"a","topics":[{"name":"x","score":"1"}]}`, false},
		{"topic score out of range", `{"id":"a","topics":[{"name":"x","score":1e999}]}`, false},
		{"topic number", `{"id":"a","topics":[3]}`, false},
		{"revision float", `{"article":{"revision":1.5}}`, false},
		{"revision string", `{"article":{"revision":"1"}}`, false},
		{"bad time", `{"article":{"published_at":"yesterday"}}`, false},
		{"time number", `{"article":{"fetched_at":3}}`, false},
		{"title number", `{"title":3}`, false},
		{"article string", `{"article":"x"}`, false},
		{"article null", `{"article":null}`, false},
		{"not an object", `["id"]`, false},
		{"trailing garbage", `{"id":"a"} x`, false},
		{"trailing comma", `{"id":"a",}`, false},
		{"control character", "{\"id\":\"a\nb\"}", false},
		{"bad escape", `{"id":"\x"}`, false},
		{"bad number", `{"x":01}`, false},
		{"bad literal", `{"x":nul}`, false},
		{"truncated", `{"id":"a","text":"abc`, false},
		{"deep", `{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, false},
		{"empty", ``, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := checkFastDecode(t, []byte(c.in)); got != c.fast {
				t.Errorf("decodeFast decoded it: %v, want %v", got, c.fast)
			}
			// Either way the public decoder agrees with encoding/json.
			got, err1 := decodeMatchInput([]byte(c.in))
			want, err2 := decodeMatchInputSlow([]byte(c.in))
			if (err1 == nil) != (err2 == nil) || err1 == nil && !reflect.DeepEqual(got, want) {
				t.Errorf("decodeMatchInput = %+v, %v; encoding/json %+v, %v", got, err1, want, err2)
			}
		})
	}
}

// FuzzDecodeFast: on any input, decodeFast declines or agrees with
// encoding/json.
func FuzzDecodeFast(f *testing.F) {
	f.Add([]byte(matchInputLines))
	for _, l := range strings.Split(matchInputLines, "\n") {
		f.Add([]byte(l))
	}
	a := analyzed("a1", 1, "s1", "PTI", "MQ-9B & Quad", "Text\n\"quoted\" ünïcode",
		events.Topic{Name: "t", Score: 0.5, Evidence: []events.Evidence{{Term: "x"}}})
	f.Add(marshalAnalyzed(f, a))
	f.Add([]byte(`{"id":"a","topics":[{"name":"x","score":null}],"article":{"revision":3,"text_truncated":true}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFastDecode(t, b)
	})
}

// BenchmarkDecodeMatchInput decodes a stored analyzed article of about
// 5 KB with entities and evidence, fast and with encoding/json.
func BenchmarkDecodeMatchInput(b *testing.B) {
	text := strings.Repeat("India and the US agreed on the MQ-9B & Quad \"deal\".\n", 100)
	a := analyzed("a1", 0, "s1", "PTI", "Title", text, events.Topic{Name: "defence-cooperation", Score: 0.9,
		Evidence: []events.Evidence{{Term: "MQ-9B", Weight: 1, Sentence: "India and the US agreed on the MQ-9B."}}})
	for range 20 {
		a.Entities = append(a.Entities, events.Entity{Name: "India", Type: "country", Mentions: []events.Mention{{Field: "text", Start: 0, End: 5, Text: "India"}}})
	}
	msg := marshalAnalyzed(b, a)
	for name, dec := range map[string]func([]byte) (*matchInput, error){"fast": decodeMatchInput, "encoding-json": decodeMatchInputSlow} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := dec(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
