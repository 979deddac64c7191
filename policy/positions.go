package policy

import (
	"encoding/json"
	"unicode/utf8"
)

// Position is a place in a policy document's text: a line and a column,
// both from 1, columns counted in characters.
type Position struct{ Line, Column int }

// Span is where a statement lies in its document, as IAM's policy
// simulator reports it (MatchedStatements' StartPosition and EndPosition):
// Start is just after the token before the statement (the '[' or the
// previous statement's '}' of a list, the statement's own '{' when
// Statement is one object), End just after the statement's '}'.
type Span struct{ Start, End Position }

// StatementSpans returns the span of each statement of doc, in the order
// of Policy.Statements; nil if doc is not a JSON object.
func StatementSpans(doc string) []Span {
	if !json.Valid([]byte(doc)) {
		return nil
	}
	r := reader{s: doc}
	r.skipSpace()
	if r.s[r.pos] != '{' {
		return nil
	}
	r.pos++
	var offsets [][2]int
	for {
		r.skipSpace()
		if r.s[r.pos] == '}' {
			break
		}
		if r.s[r.pos] == ',' {
			r.pos++
			r.skipSpace()
		}
		key, err := r.str()
		if err != nil {
			return nil
		}
		r.skipSpace()
		r.pos++ // ':'
		r.skipSpace()
		if key != "Statement" {
			if _, err := r.value(); err != nil {
				return nil
			}
			continue
		}
		switch r.s[r.pos] {
		case '{':
			start := r.pos + 1
			if _, err := r.value(); err != nil {
				return nil
			}
			offsets = append(offsets, [2]int{start, r.pos})
		case '[':
			r.pos++
			start := r.pos
			for {
				r.skipSpace()
				if r.s[r.pos] == ']' {
					r.pos++
					break
				}
				if r.s[r.pos] == ',' {
					r.pos++
					r.skipSpace()
				}
				if _, err := r.value(); err != nil {
					return nil
				}
				offsets = append(offsets, [2]int{start, r.pos})
				start = r.pos
			}
		default:
			if _, err := r.value(); err != nil {
				return nil
			}
		}
	}
	spans := make([]Span, len(offsets))
	for i, o := range offsets {
		spans[i] = Span{positionAt(doc, o[0]), positionAt(doc, o[1])}
	}
	return spans
}

// positionAt is the line and column of the character at byte offset
// off. A line ends at "\n", "\r\n" or a lone "\r".
func positionAt(doc string, off int) Position {
	p := Position{Line: 1, Column: 1}
	for i := 0; i < off; {
		switch doc[i] {
		case '\n':
			p.Line, p.Column = p.Line+1, 1
			i++
		case '\r':
			if i+1 < len(doc) && doc[i+1] == '\n' {
				i++
				continue
			}
			p.Line, p.Column = p.Line+1, 1
			i++
		default:
			_, n := utf8.DecodeRuneInString(doc[i:])
			p.Column++
			i += n
		}
	}
	return p
}
