package httpguard

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzBody feeds arbitrary bytes, under each Content-Encoding the client
// accepts, through the decoding body: it must never panic, never deliver more
// than the limit, and fail only with ErrBodyTooLarge or ErrContentEncoding.
func FuzzBody(f *testing.F) {
	encodings := [][]string{nil, {"gzip"}, {"deflate"}, {"br"}, {"gzip", "br"}}
	text := []byte("Analysts expect the tender to be decided next spring.")
	f.Add(uint8(0), text)
	f.Add(uint8(1), encode(f, "gzip", text))
	f.Add(uint8(2), encode(f, "zlib", text))
	f.Add(uint8(2), encode(f, "flate", text))
	f.Add(uint8(3), encode(f, "br", text))
	f.Add(uint8(4), encode(f, "br", encode(f, "gzip", text)))
	f.Add(uint8(1), bomb(f, "gzip", 1<<20))
	f.Add(uint8(3), bomb(f, "br", 1<<20))
	f.Add(uint8(1), []byte{})
	const limit = 4 << 10
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		encs := encodings[int(which)%len(encodings)]
		b := &body{raw: io.NopCloser(bytes.NewReader(data)), encs: encs, max: limit, declared: -1, where: "fuzz"}
		out, err := io.ReadAll(b)
		if len(out) > limit {
			t.Fatalf("delivered %d bytes past the %d byte limit", len(out), limit)
		}
		if err != nil && !errors.Is(err, ErrBodyTooLarge) && !errors.Is(err, ErrContentEncoding) {
			t.Fatalf("unexpected error type: %v", err)
		}
		if encs == nil && len(data) <= limit && (err != nil || !bytes.Equal(out, data)) {
			t.Fatalf("identity body changed: %d bytes in, %d out, %v", len(data), len(out), err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
