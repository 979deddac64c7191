package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// The route53-dns bench generates its DNS load from inside an instance: it
// copies this very binary into the instance and runs it there with
// dnsLoadArg as its first argument. The init below then runs the load
// generator instead of the bench, before main parses any flag; the bench
// never sends a packet to a VPC address from the host's namespace.
const dnsLoadArg = "__route53-dns-load"

func init() {
	if len(os.Args) > 1 && os.Args[1] == dnsLoadArg {
		if err := dnsLoadMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "dnsload:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// dnsName is the i-th record's name in zone, and dnsValue its address:
// the bench creates them, and the load generator asks for them and checks
// the answers.
func dnsName(zone string, i int) string { return fmt.Sprintf("r%d.%s.", i, zone) }

func dnsValue(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 200, byte(i >> 8), byte(i)}) }

// dnsLoadResult is what one load-generator run prints, as JSON.
type dnsLoadResult struct {
	Queries  int     `json:"queries"`  // answered in the measured window
	Errors   int     `json:"errors"`   // answers that were not NOERROR with an A record (sweep: not the right address)
	Timeouts int     `json:"timeouts"` // questions with no answer within the timeout
	Seconds  float64 `json:"seconds"`  // length of the measured window
	P50      int64   `json:"p50_ns"`
	P90      int64   `json:"p90_ns"`
	P99      int64   `json:"p99_ns"`
	FirstErr string  `json:"first_err,omitempty"`
}

// dnsLoadMain is the load generator:
//
//	load:  -mode load -server IP:53 -zone Z -n N -c C -d D -warmup W
//	sweep: -mode sweep -server IP:53 -zone Z -n N -c C [-from F]
//
// load is closed-loop: C workers, each on its own connected UDP socket,
// ask for A records of names drawn uniformly from the zone's N, one
// question outstanding per worker, for W then D; only questions sent
// after W count. sweep asks for every one of the N names (from the F-th)
// once, C at a time, and checks each answer is exactly the record's
// address.
func dnsLoadMain(args []string) error {
	fs := flag.NewFlagSet("dnsload", flag.ContinueOnError)
	mode := fs.String("mode", "load", "load or sweep")
	server := fs.String("server", "", "IP:port of the resolver")
	zone := fs.String("zone", "", "zone of the names r<i>.<zone>")
	n := fs.Int("n", 0, "number of names")
	c := fs.Int("c", 16, "concurrent workers")
	d := fs.Duration("d", 3*time.Second, "measured duration (load)")
	warmup := fs.Duration("warmup", 500*time.Millisecond, "unmeasured warm-up (load)")
	timeout := fs.Duration("timeout", time.Second, "time to wait for one answer")
	from := fs.Int("from", 0, "first name to ask for (sweep)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || *zone == "" || *n < 1 || *c < 1 || *from < 0 || *from >= *n {
		return errors.New("-server, -zone, -n and -c are required, and 0 <= -from < -n")
	}
	queries := make([][]byte, *n)
	for i := range queries {
		m := new(dns.Msg)
		m.SetQuestion(dnsName(*zone, i), dns.TypeA)
		b, err := m.Pack()
		if err != nil {
			return err
		}
		queries[i] = b
	}
	var res dnsLoadResult
	var err error
	switch *mode {
	case "load":
		res, err = dnsLoad(*server, queries, *c, *warmup, *d, *timeout)
	case "sweep":
		res, err = dnsSweep(*server, queries, *from, *c, *timeout)
	default:
		err = fmt.Errorf("-mode %q", *mode)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// dnsWorker is one connected UDP socket asking one question at a time.
type dnsWorker struct {
	conn    *net.UDPConn
	id      uint16
	q, buf  []byte
	timeout time.Duration
}

func newDNSWorker(server string, timeout time.Duration) (*dnsWorker, error) {
	addr, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		return nil, err
	}
	return &dnsWorker{conn: conn, id: uint16(rand.Uint32()), buf: make([]byte, 4096), timeout: timeout}, nil
}

// ask sends query (packed, its id overwritten) and returns the answer with
// that id: a late answer to an earlier question is skipped. ok is false
// on a timeout.
func (w *dnsWorker) ask(query []byte) (answer []byte, ok bool, err error) {
	w.id++
	w.q = append(w.q[:0], query...)
	binary.BigEndian.PutUint16(w.q, w.id)
	if _, err := w.conn.Write(w.q); err != nil {
		return nil, false, err
	}
	if err := w.conn.SetReadDeadline(time.Now().Add(w.timeout)); err != nil {
		return nil, false, err
	}
	for {
		k, err := w.conn.Read(w.buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, false, nil
			}
			return nil, false, err
		}
		if k >= 12 && binary.BigEndian.Uint16(w.buf) == w.id {
			return w.buf[:k], true, nil
		}
	}
}

// answered checks the header of an answer: a response, NOERROR, at least
// one answer record.
func answered(b []byte) error {
	switch {
	case b[2]&0x80 == 0:
		return errors.New("not a response")
	case b[3]&0x0f != dns.RcodeSuccess:
		return fmt.Errorf("rcode %s", dns.RcodeToString[int(b[3]&0x0f)])
	case binary.BigEndian.Uint16(b[6:]) == 0:
		return errors.New("no answer record")
	}
	return nil
}

func dnsLoad(server string, queries [][]byte, c int, warmup, d, timeout time.Duration) (dnsLoadResult, error) {
	var res dnsLoadResult
	workers := make([]*dnsWorker, c)
	for i := range workers {
		w, err := newDNSWorker(server, timeout)
		if err != nil {
			return res, err
		}
		defer w.conn.Close()
		workers[i] = w
	}
	start := time.Now()
	from, until := start.Add(warmup), start.Add(warmup+d)
	type tally struct {
		lat                []time.Duration
		queries, errs, tos int
		firstErr           error
	}
	tallies := make([]tally, c)
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			t := &tallies[i]
			rng := rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))
			for {
				t0 := time.Now()
				if !t0.Before(until) {
					return
				}
				b, ok, err := w.ask(queries[rng.IntN(len(queries))])
				t1 := time.Now()
				if err != nil {
					t.firstErr = cmpErr(t.firstErr, err)
					t.errs++
					return
				}
				if t0.Before(from) || t1.After(until) {
					continue // warm-up, or ends after the window
				}
				switch {
				case !ok:
					t.tos++
				case answered(b) != nil:
					t.errs++
					t.firstErr = cmpErr(t.firstErr, answered(b))
				default:
					t.queries++
					t.lat = append(t.lat, t1.Sub(t0))
				}
			}
		})
	}
	wg.Wait()
	var lat []time.Duration
	for _, t := range tallies {
		lat = append(lat, t.lat...)
		res.Queries += t.queries
		res.Errors += t.errs
		res.Timeouts += t.tos
		if t.firstErr != nil && res.FirstErr == "" {
			res.FirstErr = t.firstErr.Error()
		}
	}
	res.Seconds = d.Seconds()
	slices.Sort(lat)
	res.P50, res.P90, res.P99 = int64(percentile(lat, 50)), int64(percentile(lat, 90)), int64(percentile(lat, 99))
	return res, nil
}

func cmpErr(have, err error) error {
	if have != nil {
		return have
	}
	return err
}

// dnsSweep asks for every name from the from-th once and checks the
// address.
func dnsSweep(server string, queries [][]byte, from, c int, timeout time.Duration) (dnsLoadResult, error) {
	var res dnsLoadResult
	var mu sync.Mutex
	next := from
	start := time.Now()
	var wg sync.WaitGroup
	var werr error
	for range c {
		w, err := newDNSWorker(server, timeout)
		if err != nil {
			return res, err
		}
		defer w.conn.Close()
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(queries) {
					return
				}
				b, ok, err := w.ask(queries[i])
				var bad error
				switch {
				case err != nil:
					mu.Lock()
					werr = cmpErr(werr, err)
					mu.Unlock()
					return
				case !ok:
					bad = errors.New("timeout")
				default:
					bad = checkAddr(b, dnsValue(i))
				}
				mu.Lock()
				switch {
				case bad == nil:
					res.Queries++
				case !ok:
					res.Timeouts++
				default:
					res.Errors++
				}
				if bad != nil && res.FirstErr == "" {
					res.FirstErr = fmt.Sprintf("question %d: %v", i, bad)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	return res, werr
}

// checkAddr says whether an answer holds exactly one A record, want.
func checkAddr(b []byte, want netip.Addr) error {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return err
	}
	if m.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("rcode %s", dns.RcodeToString[m.Rcode])
	}
	if len(m.Answer) != 1 {
		return fmt.Errorf("%d answer records", len(m.Answer))
	}
	a, ok := m.Answer[0].(*dns.A)
	if !ok {
		return fmt.Errorf("answer %s", m.Answer[0])
	}
	if got, _ := netip.AddrFromSlice(a.A); got.Unmap() != want {
		return fmt.Errorf("answer %s, want %s", got, want)
	}
	return nil
}
