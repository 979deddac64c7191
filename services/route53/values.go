package route53

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	r53api "github.com/cloudbox/cloudbox/api/route53"
)

// recordTypes are the record types Route 53 takes.
var recordTypes = []string{
	r53api.RRTypeA, r53api.RRTypeAAAA, r53api.RRTypeCAA, r53api.RRTypeCNAME, r53api.RRTypeDS,
	r53api.RRTypeMX, r53api.RRTypeNAPTR, r53api.RRTypeNS, r53api.RRTypePTR, r53api.RRTypeSOA,
	r53api.RRTypeSPF, r53api.RRTypeSRV, r53api.RRTypeTXT,
}

// maxCharString is the longest character-string of a TXT or SPF value.
const maxCharString = 255

// valueError is a value Route 53 refuses: the problem, in its words, and
// the value.
type valueError struct {
	problem string
	value   string
}

func (e *valueError) Error() string {
	return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: %s encountered with '%s''", e.problem, e.value)
}

// checkValue checks one value of a record of type typ as Route 53 does,
// by reading it with miekg/dns as the data of a zone-file line of that
// type, and returns nil or the error Route 53 gives. What it accepts, the
// DNS servers can read the same way (the data plane parses Values as
// zone-file data). Names in values are fully qualified, whether or not
// they end with a dot.
func checkValue(typ, v string) error {
	bad := func(problem string) error { return &valueError{problem, v} }
	if strings.TrimSpace(v) == "" {
		switch typ {
		case r53api.RRTypeCNAME, r53api.RRTypeNS, r53api.RRTypePTR:
			return bad("DomainNameEmpty (Domain name is empty)")
		}
		return bad(parseProblem(typ))
	}
	if strings.IndexFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) >= 0 {
		return bad("InvalidCharacter (Value contains a control character)")
	}
	if typ == r53api.RRTypeTXT || typ == r53api.RRTypeSPF {
		if !strings.HasPrefix(strings.TrimSpace(v), `"`) {
			return bad("InvalidCharacterString (Value should be enclosed in quotation marks)")
		}
	}
	// Zone-file syntax that is no record data: a comment, a group over
	// lines, the generic form of RFC 3597.
	strs, fields, ok := lexValue(v)
	if !ok || fields < minFields[typ] || strings.HasPrefix(strings.TrimSpace(v), `\#`) {
		return bad(parseProblem(typ))
	}
	for _, n := range strs {
		if n > maxCharString {
			return bad("CharacterStringTooLong (Value is too long)")
		}
	}
	rr, err := parseRR(typ, v)
	if err != nil {
		return bad(parseProblem(typ))
	}
	switch r := rr.(type) {
	case *dns.A:
		if a, err := netip.ParseAddr(strings.TrimSpace(v)); err != nil || !a.Is4() {
			return bad(parseProblem(typ))
		}
	case *dns.AAAA:
		if a, err := netip.ParseAddr(strings.TrimSpace(v)); err != nil || !a.Is6() {
			return bad(parseProblem(typ))
		}
	case *dns.TXT, *dns.SPF:
		if len(strs) == 0 {
			return bad("InvalidCharacterString (Value should be enclosed in quotation marks)")
		}
	case *dns.CNAME:
		if r.Target == "." {
			return bad("DomainNameEmpty (Domain name is empty)")
		}
	}
	// What is accepted reads back the same from its presentation.
	again, err := dns.NewRR(rr.String())
	if err != nil || !dns.IsDuplicate(rr, again) {
		return bad(parseProblem(typ))
	}
	return nil
}

// parseRR reads v as the data of a record of type typ, the zone's origin
// being the root.
func parseRR(typ, v string) (dns.RR, error) {
	t, ok := dns.StringToType[typ]
	if !ok {
		return nil, fmt.Errorf("unknown type %s", typ)
	}
	rr, err := dns.NewRR(". 0 IN " + typ + " " + v)
	if err != nil {
		return nil, err
	}
	if rr == nil || rr.Header().Rrtype != t {
		return nil, fmt.Errorf("not a %s record", typ)
	}
	return rr, nil
}

// parseProblem is Route 53's problem for a value that is not data of its
// type.
func parseProblem(typ string) string {
	switch typ {
	case r53api.RRTypeA:
		return "ARRTypeExpected (Value is not a valid IPv4 address)"
	case r53api.RRTypeAAAA:
		return "AAAARRTypeExpected (Value is not a valid IPv6 address)"
	case r53api.RRTypeCNAME, r53api.RRTypeNS, r53api.RRTypePTR:
		return "DomainNameExpected (Value is not a valid domain name)"
	}
	return fmt.Sprintf("UnparsableRData (Value is not valid data for a record of type %s)", typ)
}

// lexValue walks a value as the zone-file lexer would, only to find what
// it must not contain outside quotes (a comment, parentheses, an
// unterminated string), and returns the length of each quoted string and
// the number of fields (a quoted string is one).
func lexValue(v string) (strs []int, fields int, ok bool) {
	in, n, field := false, 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !in && (c == ' ' || c == '\t') {
			field = false
			continue
		}
		if !field {
			fields++
			field = true
		}
		switch {
		case c == '\\':
			if i+3 < len(v) && isDigit(v[i+1]) && isDigit(v[i+2]) && isDigit(v[i+3]) {
				i += 3
			} else {
				i++
			}
			n++
		case c == '"':
			if in {
				strs = append(strs, n)
				field = false
			}
			in, n = !in, 0
		case in:
			n++
		case c == ';' || c == '(' || c == ')':
			return nil, 0, false
		}
	}
	return strs, fields, !in
}

// minFields is the number of fields the data of a type has at least:
// miekg/dns takes a line that ends early as zeros.
var minFields = map[string]int{
	r53api.RRTypeMX: 2, r53api.RRTypeSRV: 4, r53api.RRTypeCAA: 3, r53api.RRTypeNAPTR: 6,
	r53api.RRTypeDS: 4, r53api.RRTypeSOA: 7,
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func knownType(t string) bool { return slices.Contains(recordTypes, t) }
