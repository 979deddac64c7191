package route53

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestCheckValue: values Route 53 takes and refuses, for each type.
func TestCheckValue(t *testing.T) {
	for _, tc := range []struct {
		typ, value string
		problem    string // "" for accepted
	}{
		{"A", "192.0.2.1", ""},
		{"A", " 192.0.2.1 ", ""},
		{"A", "192.0.2", "ARRTypeExpected"},
		{"A", "192.0.2.256", "ARRTypeExpected"},
		{"A", "::ffff:192.0.2.1", "ARRTypeExpected"},
		{"A", "192.0.2.1 192.0.2.2", "ARRTypeExpected"},
		{"A", `\# 4 c0000201`, "ARRTypeExpected"},
		{"A", "", "ARRTypeExpected"},
		{"AAAA", "2001:db8::1", ""},
		{"AAAA", "2001:0db8:85a3:0:0:8a2e:0370:7334", ""},
		{"AAAA", "192.0.2.1", "AAAARRTypeExpected"},
		{"AAAA", "2001:db8::g", "AAAARRTypeExpected"},
		{"CNAME", "www.example.com", ""},
		{"CNAME", "www.example.com.", ""},
		{"CNAME", "", "DomainNameEmpty"},
		{"CNAME", "two words", "DomainNameExpected"},
		{"NS", "ns-1.awsdns-01.com.", ""},
		{"PTR", "host.example.com", ""},
		{"MX", "10 mail.example.com", ""},
		{"MX", "mail.example.com", "UnparsableRData"},
		{"MX", "70000 mail.example.com", "UnparsableRData"},
		{"MX", "10 (mail.example.com)", "UnparsableRData"},
		{"TXT", `"v=spf1 -all"`, ""},
		{"TXT", `"a" "b"`, ""},
		{"TXT", `"semi;colon"`, ""},
		{"TXT", `"escaped \" quote"`, ""},
		{"TXT", `""`, ""},
		{"TXT", `"` + strings.Repeat("a", 255) + `"`, ""},
		{"TXT", `"` + strings.Repeat("a", 256) + `"`, "CharacterStringTooLong"},
		{"TXT", "v=spf1 -all", "InvalidCharacterString"},
		{"TXT", `"unterminated`, "UnparsableRData"},
		{"TXT", `"a" ; comment`, "UnparsableRData"},
		{"TXT", "\"a\"\n\"b\"", "InvalidCharacter"},
		{"SPF", `"v=spf1 -all"`, ""},
		{"SPF", "v=spf1 -all", "InvalidCharacterString"},
		{"SRV", "1 10 5269 xmpp.example.com", ""},
		{"SRV", "1 10 xmpp.example.com", "UnparsableRData"},
		{"CAA", `0 issue "amazon.com"`, ""},
		{"CAA", `0 issuewild ";"`, ""},
		{"CAA", `256 issue "amazon.com"`, "UnparsableRData"},
		{"NAPTR", `100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .`, ""},
		{"NAPTR", `100 10 "U"`, "UnparsableRData"},
		{"DS", "12345 8 2 49FD46E6C4B45C55D4AC49FD46E6C4B45C55D4AC", ""},
		{"DS", "12345 8 2", "UnparsableRData"},
		{"SOA", "ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400", ""},
		{"SOA", "ns-1.awsdns-01.com. 1 7200", "UnparsableRData"},
	} {
		err := checkValue(tc.typ, tc.value)
		switch {
		case tc.problem == "" && err != nil:
			t.Errorf("%s %q refused: %v", tc.typ, tc.value, err)
		case tc.problem != "" && err == nil:
			t.Errorf("%s %q accepted, want %s", tc.typ, tc.value, tc.problem)
		case tc.problem != "" && !strings.HasPrefix(err.Error(), "Invalid Resource Record: 'FATAL problem: "+tc.problem+" ("):
			t.Errorf("%s %q: %v, want %s", tc.typ, tc.value, err, tc.problem)
		}
	}
}

// TestNames: names as Route 53 reads, shows and orders them, and as the
// data plane takes them.
func TestNames(t *testing.T) {
	for _, tc := range []struct {
		in, shown, plain string
		err              error
	}{
		{"www.Example.COM", "www.example.com.", "www.example.com", nil},
		{"www.example.com.", "www.example.com.", "www.example.com", nil},
		{"*.example.com", `\052.example.com.`, "*.example.com", nil},
		{`\052.example.com`, `\052.example.com.`, "*.example.com", nil},
		{`\101BC.example.com`, "abc.example.com.", "abc.example.com", nil},
		{"_dmarc.example.com", "_dmarc.example.com.", "_dmarc.example.com", nil},
		{"a@b.example.com", `a\100b.example.com.`, `a\@b.example.com`, nil},
		{`a\.b.example.com`, `a\056b.example.com.`, `a\.b.example.com`, nil},
		{"", "", "", errNameEmpty},
		{".", "", "", errNameEmpty},
		{"a..b", "", "", errLabelEmpty},
		{".a", "", "", errLabelEmpty},
		{"a b.com", "", "", errBadCharacter},
		{"é.com", "", "", errBadCharacter},
		{`a\`, "", "", errBadEscape},
		{`a\777.com`, "", "", errBadEscape},
		{strings.Repeat("a", 64) + ".com", "", "", errLabelTooLong},
		{strings.Repeat(strings.Repeat("a", 63)+".", 4) + "com", "", "", errNameTooLong},
	} {
		n, err := parseName(tc.in)
		if err != tc.err {
			t.Errorf("parse %q: %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && (n.String() != tc.shown || n.plain() != tc.plain) {
			t.Errorf("parse %q: shown %q plain %q, want %q %q", tc.in, n.String(), n.plain(), tc.shown, tc.plain)
		}
		if err == nil {
			again, err := parseName(n.String())
			if err != nil || again.String() != n.String() {
				t.Errorf("%q does not read back: %q %v", n.String(), again, err)
			}
		}
	}
	zone := mustName("example.com")
	for name, within := range map[string]bool{"example.com": true, "a.b.example.com": true, "badexample.com": false, "com": false} {
		if mustName(name).within(zone) != within {
			t.Errorf("%s within example.com: %v", name, !within)
		}
	}
}

// FuzzRecordValue: checking a value never panics, and what it accepts
// reads back through dns.NewRR, as the data plane reads it, to the same
// record.
func FuzzRecordValue(f *testing.F) {
	for _, s := range []struct{ typ, v string }{
		{"A", "192.0.2.1"}, {"AAAA", "2001:db8::1"}, {"CNAME", "www.example.com"}, {"MX", "10 mail.example.com"},
		{"TXT", `"v=spf1 -all"`}, {"TXT", `"a" "b\"c"`}, {"SPF", `"x"`}, {"SRV", "1 10 5269 x.example.com"},
		{"CAA", `0 issue "amazon.com"`}, {"NAPTR", `100 10 "U" "E2U+sip" "!^.*$!sip:x@example.com!" .`},
		{"DS", "12345 8 2 49FD46E6C4B45C55D4AC"}, {"NS", "ns.example.com"}, {"PTR", "h.example.com"},
		{"SOA", "ns.example.com. h.example.com. 1 2 3 4 5"}, {"TXT", "\"a\" ;x"}, {"MX", "10 (x)"},
	} {
		f.Add(s.typ, s.v)
	}
	f.Fuzz(func(t *testing.T, typ, v string) {
		if !knownType(typ) {
			typ = recordTypes[len(typ)%len(recordTypes)]
		}
		if checkValue(typ, v) != nil {
			return
		}
		rr, err := dns.NewRR(". 0 IN " + typ + " " + v)
		if err != nil || rr == nil {
			t.Fatalf("%s %q accepted, but dns.NewRR: %v", typ, v, err)
		}
		again, err := dns.NewRR(rr.String())
		if err != nil || !dns.IsDuplicate(rr, again) {
			t.Fatalf("%s %q accepted, but %q reads back as %v (%v)", typ, v, rr.String(), again, err)
		}
	})
}
