package main

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// loopbackDNS serves r<i>.<zone> with dnsValue(i)+shift on 127.0.0.1 and
// returns its address.
func loopbackDNS(t *testing.T, zone string, shift int) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) }, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		name := req.Question[0].Name
		if rest, ok := strings.CutSuffix(name, "."+zone+"."); ok {
			if i, err := strconv.Atoi(strings.TrimPrefix(rest, "r")); err == nil {
				m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
					A: dnsValue(i + shift).AsSlice()}}
			}
		}
		if len(m.Answer) == 0 {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func packedQueries(t *testing.T, zone string, n int) [][]byte {
	t.Helper()
	var qs [][]byte
	for i := range n {
		m := new(dns.Msg)
		m.SetQuestion(dnsName(zone, i), dns.TypeA)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, b)
	}
	return qs
}

func TestDNSSweepChecksEveryAnswer(t *testing.T) {
	qs := packedQueries(t, "z.test", 300)
	res, err := dnsSweep(loopbackDNS(t, "z.test", 0), qs, 0, 4, time.Second)
	if err != nil || res.Queries != 300 || res.Errors != 0 || res.Timeouts != 0 {
		t.Fatalf("right server: %+v, %v", res, err)
	}
	res, err = dnsSweep(loopbackDNS(t, "z.test", 1), qs, 0, 4, time.Second)
	if err != nil || res.Queries != 0 || res.Errors != 300 || !strings.Contains(res.FirstErr, "want") {
		t.Fatalf("wrong addresses: %+v, %v", res, err)
	}
	res, err = dnsSweep(loopbackDNS(t, "other.test", 0), qs, 0, 4, time.Second)
	if err != nil || res.Queries != 0 || res.Errors != 300 || !strings.Contains(res.FirstErr, "NXDOMAIN") {
		t.Fatalf("unknown names: %+v, %v", res, err)
	}
	res, err = dnsSweep(loopbackDNS(t, "z.test", 0), qs, 299, 4, time.Second)
	if err != nil || res.Queries != 1 || res.Errors != 0 {
		t.Fatalf("the last name only: %+v, %v", res, err)
	}
}

func TestDNSLoadCountsAnswers(t *testing.T) {
	qs := packedQueries(t, "z.test", 50)
	res, err := dnsLoad(loopbackDNS(t, "z.test", 0), qs, 2, 50*time.Millisecond, 200*time.Millisecond, time.Second)
	if err != nil || res.Queries == 0 || res.Errors != 0 || res.Timeouts != 0 || res.P50 <= 0 || res.P99 < res.P50 {
		t.Fatalf("%+v, %v", res, err)
	}
	res, err = dnsLoad(loopbackDNS(t, "other.test", 0), qs, 2, 0, 100*time.Millisecond, time.Second)
	if err != nil || res.Queries != 0 || res.Errors == 0 {
		t.Fatalf("unknown names: %+v, %v", res, err)
	}
}

func TestWithLibraries(t *testing.T) {
	files, err := withLibraries("/bin/sh")
	if err != nil {
		t.Skip(err) // a static shell, or no ldd
	}
	if files["sh"] != "/bin/sh" || files["lib/ld.so"] == "" {
		t.Fatalf("%v", files)
	}
}

func TestThousandsOfRecordNames(t *testing.T) {
	if got := dnsName("bench.internal", 42); got != "r42.bench.internal." {
		t.Errorf("dnsName: %q", got)
	}
	if got := dnsValue(9999).String(); got != "10.200.39.15" {
		t.Errorf("dnsValue(9999): %s", got)
	}
}
