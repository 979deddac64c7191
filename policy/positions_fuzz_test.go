package policy

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzStatementSpans: for every document a parser accepts, StatementSpans
// gives one span per statement, each within the text, in order, starting
// just after '[', '{' or '}' and ending just after a '}'; ContextKeys
// does not panic and lists non-empty keys, each once whatever its case.
func FuzzStatementSpans(f *testing.F) {
	for _, tc := range evalCases {
		for _, d := range append(append(tc.identity, tc.session...), tc.boundary, tc.resource, tc.trust) {
			if d != "" {
				f.Add(d)
			}
		}
	}
	for _, d := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}`,
		"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}",
		`{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*"}, {"Effect":"Deny","Action":"a:c","Resource":"*"}],"Version":"2012-10-17"}`,
		"{\"Id\":\"é\",\r\n\"Statement\":[\r\n{\"Sid\":\"ü\",\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}",
		"{\"Version\":\"2012-10-17\",\r\"Statement\":[\r{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/${aws:username}/*\"}\r]}",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*","${aws:PrincipalTag/team, 'none'}"]}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}],"Statement":[]}`,
		`{"Version":"2012-10-17","\u0053tatement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		`[1]`, `{}`, `{"Statement":[]}`, `{"Statement":[{}]`, "\xff", "",
	} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		kinds := []Kind{}
		for k := Managed; k <= ResourceBased; k++ {
			kinds = append(kinds, k)
		}
		for i, k := range append(kinds, ResourceBased+1) {
			var p *Policy
			var err error
			if i == len(kinds) {
				p, err = ParseAWSManaged(doc)
			} else {
				p, err = Parse(k, doc)
			}
			if err != nil {
				continue
			}
			checkSpans(t, doc, StatementSpans(doc), len(p.Statements))
			seen := map[string]bool{}
			for _, key := range p.ContextKeys() {
				l := strings.ToLower(key)
				if key == "" || seen[l] {
					t.Fatalf("%s: ContextKeys gave %q twice or empty: %q", k, key, p.ContextKeys())
				}
				seen[l] = true
			}
		}
	})
}

// checkSpans checks spans against doc, whose policy has n statements.
func checkSpans(t *testing.T, doc string, spans []Span, n int) {
	t.Helper()
	if len(spans) != n {
		t.Fatalf("%d spans for %d statements: %v", len(spans), n, spans)
	}
	// The byte offset of each position, counted as positionAt counts: the
	// first offset at which it is reached.
	at := map[Position]int{}
	p := Position{Line: 1, Column: 1}
	for i := 0; ; {
		if _, ok := at[p]; !ok {
			at[p] = i
		}
		if i >= len(doc) {
			break
		}
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
			_, w := utf8.DecodeRuneInString(doc[i:])
			p.Column++
			i += w
		}
	}
	last := 0
	for _, s := range spans {
		start, ok1 := at[s.Start]
		end, ok2 := at[s.End]
		if !ok1 || !ok2 {
			t.Fatalf("span %v is not within the text %q", s, doc)
		}
		if start < last || end <= start {
			t.Fatalf("span %v (bytes %d to %d) out of order after byte %d", s, start, end, last)
		}
		if start == 0 || !strings.ContainsRune("[{}", rune(doc[start-1])) || doc[end-1] != '}' {
			t.Fatalf("span %v (bytes %d to %d) does not frame a statement: %q", s, start, end, doc[max(start-1, 0):end])
		}
		last = end
	}
}
