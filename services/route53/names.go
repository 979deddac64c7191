package route53

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// name is a parsed domain name: its labels, leftmost first, each the raw
// bytes of the label with letters in lower case (Route 53 is
// case-insensitive and keeps names in lower case).
type name []string

// nameError is why a name is refused, in Route 53's words for record
// names: a problem code and its description.
type nameError struct{ problem, desc string }

func (e *nameError) Error() string { return e.problem + " (" + e.desc + ")" }

var (
	errNameEmpty    = &nameError{"DomainNameEmpty", "Domain name is empty"}
	errLabelEmpty   = &nameError{"DomainLabelEmpty", "Domain label is empty"}
	errLabelTooLong = &nameError{"DomainLabelTooLong", "Domain label is too long"}
	errNameTooLong  = &nameError{"DomainNameTooLong", "Domain name is too long"}
	errBadEscape    = &nameError{"InvalidEscapeSequence", "Escape sequence is not valid"}
	errBadCharacter = &nameError{"InvalidCharacter", "Value contains a character that must be given as an escape code"}
)

// parseName reads a name as Route 53 takes it: fully qualified whether or
// not it ends with a dot, any printable ASCII character but space, and
// \ooo (three octal digits) escapes for any byte. A backslash before any
// other character stands for that character.
func parseName(s string) (name, error) {
	if s == "" {
		return nil, errNameEmpty
	}
	var (
		labels []string
		cur    []byte
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
				v := int(s[i+1]-'0')*64 + int(s[i+2]-'0')*8 + int(s[i+3]-'0')
				if v > 255 {
					return nil, errBadEscape
				}
				cur = append(cur, byte(v))
				i += 3
				continue
			}
			if i+1 >= len(s) || isOctal(s[i+1]) {
				return nil, errBadEscape
			}
			i++
			cur = append(cur, s[i])
		case c == '.':
			if len(cur) == 0 {
				if i == len(s)-1 && len(labels) == 0 {
					return nil, errNameEmpty // "."
				}
				return nil, errLabelEmpty
			}
			labels = append(labels, string(cur))
			cur = nil
		case c <= ' ' || c >= 0x7f:
			return nil, errBadCharacter
		default:
			cur = append(cur, c)
		}
	}
	if len(cur) > 0 {
		labels = append(labels, string(cur))
	}
	wire := 1
	for i, l := range labels {
		if len(l) > 63 {
			return nil, errLabelTooLong
		}
		wire += len(l) + 1
		labels[i] = lower(l)
	}
	if wire > 255 {
		return nil, errNameTooLong
	}
	return name(labels), nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// lower folds ASCII letters only: DNS names are case-insensitive for A-Z
// alone.
func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// String is the name as Route 53 shows it: characters other than a-z,
// 0-9, hyphen and underscore as \ooo escapes, with the trailing dot.
func (n name) String() string {
	var b strings.Builder
	for _, l := range n {
		writeLabel(&b, l)
		b.WriteByte('.')
	}
	if len(n) == 0 {
		return "."
	}
	return b.String()
}

func writeLabel(b *strings.Builder, l string) {
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(b, "\\%03o", c)
	}
}

// sortKey orders names as Route 53 lists them: by the labels reversed
// ("com.example.www."), compared byte by byte, the dots included (so
// "*" and "-", which come before ".", sort before the end of a label).
func (n name) sortKey() string {
	var b strings.Builder
	for i := len(n) - 1; i >= 0; i-- {
		b.WriteString(n[i])
		b.WriteByte('.')
	}
	return b.String()
}

// wire is the name in DNS wire format.
func (n name) wire() []byte {
	var out []byte
	for _, l := range n {
		out = append(out, byte(len(l)))
		out = append(out, l...)
	}
	return append(out, 0)
}

// plain is the name as the data plane takes it (desired.Zone, Record):
// zone-file presentation (RFC 1035 escapes), lower case, without the
// trailing dot; a wildcard is "*.".
func (n name) plain() string {
	s, _, err := dns.UnpackDomainName(n.wire(), 0)
	if err != nil {
		return strings.TrimSuffix(n.String(), ".")
	}
	return strings.TrimSuffix(s, ".")
}

// within reports whether n is zone or below it.
func (n name) within(zone name) bool {
	return len(n) >= len(zone) && slices.Equal(n[len(n)-len(zone):], zone)
}

// wildcard reports whether the leftmost label is "*": only there is it a
// wildcard.
func (n name) wildcard() bool { return len(n) > 0 && n[0] == "*" }

// mustName parses a name that is known to be valid (one this package
// stored).
func mustName(s string) name {
	n, err := parseName(s)
	if err != nil {
		return name{s}
	}
	return n
}

// sortKeyOf is the sort key of a name as stored.
func sortKeyOf(s string) string { return mustName(s).sortKey() }
