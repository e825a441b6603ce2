package extract_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"

	"github.com/newswatch/newswatch/pkg/extract"
)

func TestDecodeHTML(t *testing.T) {
	const word = "Grüße, Señor — ½"
	latin1, _ := charmap.ISO8859_1.NewEncoder().String("<p>Grüße, Señor ½</p>")
	cp1251, _ := charmap.Windows1251.NewEncoder().String("<p>Привет, мир</p>")
	sjis, _ := japanese.ShiftJIS.NewEncoder().String("<p>東京の天気</p>")
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String("<html><body><p>Grüße</p></body></html>")
	longHead := "<html><head>" + strings.Repeat("<script>var x = 1;</script>\n", 60)
	tests := []struct {
		name, contentType string
		body              []byte
		want              string // substring of the UTF-8 result
		wantErr           error
	}{
		{"utf-8 without any declaration", "", []byte("<p>" + word + "</p>"), word, nil},
		{"charset from Content-Type", "text/html; charset=ISO-8859-1", []byte(latin1), "Grüße, Señor ½", nil},
		{"charset from meta in the first KiB", "text/html", []byte(`<meta charset="windows-1251">` + cp1251), "Привет, мир", nil},
		{"charset from meta after a long head", "", []byte(longHead + `<meta http-equiv="Content-Type" content="text/html; charset=shift_jis"></head><body>` + sjis), "東京の天気", nil},
		{"UTF-8 labelled as latin-1 in meta", "", []byte(`<meta charset="iso-8859-1"><p>` + word + `</p>`), word, nil},
		{"UTF-8 byte-order mark", "", []byte("\xef\xbb\xbf<p>" + word + "</p>"), word, nil},
		{"UTF-16 byte-order mark", "", []byte(utf16), "Grüße", nil},
		{"invalid UTF-8 bytes are replaced", "text/html; charset=utf-8", []byte("<p>ok \xff\xfe end</p>"), "ok \uFFFD", nil},
		{"image by Content-Type", "image/png", []byte("\x89PNG\r\n\x1a\n"), "", extract.ErrNotHTML},
		{"JSON by Content-Type", "application/json", []byte(`{"a":1}`), "", extract.ErrNotHTML},
		{"PDF by sniffing", "", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), "", extract.ErrNotHTML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := extract.DecodeHTML(tt.body, tt.contentType)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}
