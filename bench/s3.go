package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The S3 benches: throughput against the disk (s3-throughput), small-object
// latency against moto (s3-latency), the daemon's memory during a 2 GiB
// upload (s3-rss), and listings over many keys (s3-list). `-only s3` runs
// them all. cloudbox runs with its persistent store throughout, so every
// object is a real file on the disk.
const (
	s3Bucket = "bench"

	s3SmallObj  = 1 << 20
	s3LargeObj  = 256 << 20
	s3SmallRuns = 15
	s3LargeRuns = 5
	s3CopyBuf   = 1 << 20 // the copy buffer of the disk baseline and of GETs into files

	s3LatObj      = 4 << 10
	s3LatClients  = 16
	s3LatRequests = 200 // per client and phase
	s3LatWarmup   = 5   // untimed PUT+GET pairs per client first

	s3BigObj      = 2 << 30
	s3RSSInterval = 100 * time.Millisecond

	s3ListKeys    = 100_000 // the count; cloudbox only
	s3ListShared  = 20_000  // the count both servers get: moto fills 100,000 keys too slowly (about 300 PUTs/s)
	s3ListDays    = 5       // half the keys are logs/2026/<dd>/ over this many days, half other/
	s3ListDay     = 3       // the prefix listed: logs/2026/03/, a tenth of the keys
	s3ListFillers = 32      // concurrent PUTs while filling
	s3ListPage    = 1000
	s3ListRuns    = 5 // timed runs of each listing, or fewer past s3ListBudget
	s3ListBudget  = 30 * time.Second

	s3CallTimeout = 5 * time.Minute // per call: a 2 GiB upload, or moto listing

	// Goals from the issue.
	goalS3Disk = 0.7        // large-object throughput, cloudbox/disk
	goalS3RSS  = 50_000_000 // "a few tens of MB" above idle during a 2 GiB upload
)

// s3Mode is how the SDK client treats payloads.
type s3Mode int

const (
	// s3Unsigned sends UNSIGNED-PAYLOAD and no checksum, and validates
	// none on GETs: the body is read once, as it is sent.
	s3Unsigned s3Mode = iota
	// s3Defaults is the SDK as configured out of the box, over http: a
	// PUT reads its body once before sending it, for the SHA-256 it signs
	// and the CRC32 it sends in x-amz-checksum-crc32; a GET sends
	// x-amz-checksum-mode ENABLED and checks the CRC32 that comes back.
	s3Defaults
)

func (m s3Mode) String() string {
	if m == s3Unsigned {
		return "unsigned, no checksums"
	}
	return "SDK defaults"
}

// newS3 is an aws-sdk-go-v2 S3 client for endpoint: path-style, key
// test/test, us-east-1, retries off, loopback only.
func newS3(endpoint string, mode s3Mode) *s3.Client { return newS3With(endpoint, mode, s3HTTP()) }

func s3HTTP() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil, // loopback only
		MaxIdleConnsPerHost: 2 * s3ListFillers,
		DisableCompression:  true,
	}}
}

// newS3With is newS3 over another HTTP client (a wireClient).
func newS3With(endpoint string, mode s3Mode, hc s3.HTTPClient) *s3.Client {
	o := s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, ""),
		HTTPClient:   hc,
		Retryer:      aws.NopRetryer{},
	}
	switch mode {
	case s3Unsigned:
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	case s3Defaults:
		// What config.LoadDefaultConfig sets; s3.New's zero values would
		// compute no checksum at all.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	}
	return s3.New(o)
}

func s3MakeBucket(ctx context.Context, c *s3.Client) error {
	_, err := untimedS3(ctx, func(ctx context.Context) (*s3.CreateBucketOutput, error) {
		return c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s3Bucket)})
	})
	return err
}

func untimedS3[T any](ctx context.Context, f func(ctx context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, s3CallTimeout)
	defer cancel()
	return f(ctx)
}

// s3Err is errCell with the HTTP status and request id, enough to find
// the request in the daemon's log.
func s3Err(err error) string {
	s := errCell(err)
	var st interface{ HTTPStatusCode() int }
	if errors.As(err, &st) {
		s += fmt.Sprintf(" (HTTP %d", st.HTTPStatusCode())
		var id interface{ ServiceRequestID() string }
		if errors.As(err, &id) && id.ServiceRequestID() != "" {
			s += ", request id " + id.ServiceRequestID()
		}
		s += ")"
	}
	return s
}

// ---- s3-throughput ----

// s3Series is the timed runs of one row of the throughput table.
type s3Series struct {
	size   int64
	op     string // "cp", "PUT", "GET"
	server string
	mode   string
	times  []time.Duration
	err    error
}

func (s *s3Series) median() time.Duration { return percentile(sorted(s.times), 50) }

func benchS3Throughput(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: "S3 PUT and GET throughput, 1 MiB and 256 MiB objects, against the disk",
		table: table{header: []string{"Object", "Operation", "Server", "Client payload", "Median", "Throughput", "vs disk cp", "Runs"}},
	}
	dataDir, err := os.MkdirTemp(r.tmp, "data-")
	if err != nil {
		return s, err
	}
	files := filepath.Join(r.tmp, "s3-files")
	if err := os.MkdirAll(files, 0o755); err != nil {
		return s, err
	}
	defer os.RemoveAll(files)
	s.method = fmt.Sprintf("One aws-sdk-go-v2 S3 client (path-style, key test/test, retries off, one keep-alive connection "+
		"at a time) against cloudbox with its persistent store in a fresh data directory, so every object is synced to a "+
		"file there, and against moto for 1 MiB. The payload is a file of incompressible bytes in a directory beside the "+
		"data directory, on the same file system (%s). Each run, interleaved in this order: *disk cp*, the baseline: open "+
		"the payload file, create a new file in that same directory, copy with read/write through a %d MiB buffer, fsync, "+
		"close; *PUT*: one PutObject with the opened payload file as the body (Content-Length from stat), timed until the "+
		"answer; *GET*: one GetObject streamed into a new file in that same directory through a %d MiB buffer, fsynced "+
		"and closed before the clock stops, so both sides of the ratio do the same file work. Client payload *%s*: "+
		"UNSIGNED-PAYLOAD, no checksum sent or validated, so the client reads the body once, as it sends it; *%s*: "+
		"what config.LoadDefaultConfig sets (checksums when supported), over http: a PUT reads its body once before "+
		"sending, for the SHA-256 it signs and the CRC32 it sends, and a GET checks the CRC32 that comes back. The "+
		"server hashes MD5 (the ETag) in every case, and the CRC32 when one is sent; under the default `--auth off` "+
		"it does not check the signed SHA-256. One "+
		"untimed warm-up run of each, which also checks the PUT's ETag and the GET's bytes against the payload's MD5; "+
		"then %d timed runs for 1 MiB and %d for 256 MiB; the table shows the median and the throughput at the median. "+
		"MB/s are 10^6 bytes per second. (coreutils' cp would use copy_file_range, an in-kernel copy; the baseline "+
		"copies through user space as a server must.)",
		fsType(files), s3CopyBuf>>20, s3CopyBuf>>20, s3Unsigned, s3Defaults, s3SmallRuns, s3LargeRuns)
	if !sameDevice(dataDir, files) {
		s.notes = append(s.notes, "**The payload directory is not on the data directory's file system**; the ratios compare different disks.")
	}

	targets := r.targetsIn(dataDir)
	cb, err := r.start(ctx, targets[cbDisk])
	if err != nil {
		return s, err
	}
	defer cb.stop()
	moto, err := r.start(ctx, targets[motoSrv])
	if err != nil {
		return s, err
	}
	defer moto.stop()

	type client struct {
		server string
		c      *s3.Client
		mode   s3Mode
		small  bool // 1 MiB only
	}
	clients := []client{
		{targets[cbDisk].name, newS3(cb.endpoint, s3Unsigned), s3Unsigned, false},
		{targets[cbDisk].name, newS3(cb.endpoint, s3Defaults), s3Defaults, false},
		{targets[motoSrv].name, newS3(moto.endpoint, s3Unsigned), s3Unsigned, true},
	}
	for _, c := range []*s3.Client{clients[0].c, clients[2].c} {
		if err := s3MakeBucket(ctx, c); err != nil {
			return s, err
		}
	}

	buf := make([]byte, s3CopyBuf)
	var all []*s3Series
	for _, size := range []int64{s3SmallObj, s3LargeObj} {
		runs := s3SmallRuns
		if size == s3LargeObj {
			runs = s3LargeRuns
		}
		src := filepath.Join(files, fmt.Sprintf("payload-%d", size))
		sum, err := writePattern(src, size)
		if err != nil {
			return s, err
		}
		dst := filepath.Join(files, "copy")
		cp := &s3Series{size: size, op: "disk cp", server: "disk"}
		all = append(all, cp)
		type pair struct {
			c        client
			put, get *s3Series
			key      string
		}
		var pairs []pair
		for i, c := range clients {
			if c.small && size != s3SmallObj {
				continue
			}
			p := pair{c: c, key: fmt.Sprintf("obj-%d-%d", size, i),
				put: &s3Series{size: size, op: "PUT", server: c.server, mode: c.mode.String()},
				get: &s3Series{size: size, op: "GET", server: c.server, mode: c.mode.String()}}
			pairs = append(pairs, p)
			all = append(all, p.put, p.get)
		}
		r.logf("  %s objects: 1 warm-up + %d runs of cp, then PUT and GET per client", sizeName(size), runs)
		for run := -1; run < runs; run++ {
			d, err := diskCopy(src, dst, buf)
			if err != nil {
				return s, err
			}
			os.Remove(dst)
			if run >= 0 {
				cp.times = append(cp.times, d)
			}
			for _, p := range pairs {
				if p.put.err != nil {
					continue
				}
				d, etag, err := s3PutFile(ctx, p.c.c, p.key, src)
				if err == nil && run < 0 && strings.Trim(etag, `"`) != sum {
					err = fmt.Errorf("PutObject answered ETag %s, the payload's MD5 is %s", etag, sum)
				}
				if err != nil {
					p.put.err, p.get.err = err, err
					continue
				}
				if run >= 0 {
					p.put.times = append(p.put.times, d)
				}
				d, got, err := s3GetFile(ctx, p.c.c, p.key, dst, buf, run < 0)
				if err == nil && run < 0 && got != sum {
					err = fmt.Errorf("GetObject's bytes have MD5 %s, the payload's is %s", got, sum)
				}
				os.Remove(dst)
				if err != nil {
					p.get.err = err
					continue
				}
				if run >= 0 {
					p.get.times = append(p.get.times, d)
				}
			}
		}
		os.Remove(src)
	}

	diskMedian := map[int64]time.Duration{}
	for _, x := range all {
		if x.op == "disk cp" {
			diskMedian[x.size] = x.median()
		}
	}
	vsDisk := func(x *s3Series) float64 { return diskMedian[x.size].Seconds() / x.median().Seconds() }
	for _, x := range all {
		row := []string{sizeName(x.size), x.op, x.server, x.mode}
		if x.err != nil {
			row = append(row, s3Err(x.err), "", "", strconv.Itoa(len(x.times)))
			s.notes = append(s.notes, fmt.Sprintf("%s %s %s (%s) failed: %s", x.server, sizeName(x.size), x.op, x.mode, s3Err(x.err)))
		} else {
			ratio := "1 (baseline)"
			if x.op != "disk cp" {
				ratio = fmt.Sprintf("%.2f", vsDisk(x))
			}
			row = append(row, ms(x.median()), mbps(x.size, x.median()), ratio, strconv.Itoa(len(x.times)))
		}
		s.table.rows = append(s.table.rows, row)
	}

	find := func(size int64, op, server, mode string) *s3Series {
		for _, x := range all {
			if x.size == size && x.op == op && x.server == server && x.mode == mode && x.err == nil && len(x.times) > 0 {
				return x
			}
		}
		return nil
	}
	cbName, motoName := targets[cbDisk].name, targets[motoSrv].name
	for _, size := range []int64{s3SmallObj, s3LargeObj} {
		var parts []string
		for _, mode := range []s3Mode{s3Unsigned, s3Defaults} {
			put, get := find(size, "PUT", cbName, mode.String()), find(size, "GET", cbName, mode.String())
			if put != nil && get != nil {
				parts = append(parts, fmt.Sprintf("%s: PUT %.2f, GET %.2f", mode, vsDisk(put), vsDisk(get)))
			}
		}
		if len(parts) > 0 {
			s.notes = append(s.notes, fmt.Sprintf("%s objects, cloudbox/disk cp throughput (%s of disk cp at the median): %s.",
				sizeName(size), mbps(size, diskMedian[size]), strings.Join(parts, "; ")))
		}
	}
	for _, op := range []string{"PUT", "GET"} {
		c, m := find(s3SmallObj, op, cbName, s3Unsigned.String()), find(s3SmallObj, op, motoName, s3Unsigned.String())
		if c != nil && m != nil {
			s.notes = append(s.notes, fmt.Sprintf("1 MiB %s: cloudbox is **%s** than moto (median %s vs %s).",
				op, faster(speedup(m.median(), c.median())), ms(c.median()), ms(m.median())))
		}
	}
	for _, op := range []string{"PUT", "GET"} {
		x := find(s3LargeObj, op, cbName, s3Unsigned.String())
		g := goal{name: "S3 256 MiB " + op + " throughput vs disk cp", target: fmt.Sprintf("≥ %.1f of disk cp", goalS3Disk)}
		if x == nil {
			g.result = "failed"
		} else {
			g.result = fmt.Sprintf("%.2f (%s vs %s; median of %d, %s)", vsDisk(x), mbps(x.size, x.median()),
				mbps(x.size, diskMedian[x.size]), len(x.times), s3Unsigned)
			g.met = vsDisk(x) >= goalS3Disk
		}
		s.goals = append(s.goals, g)
	}
	return s, nil
}

// s3PutFile PUTs the file at path, timed from opening it to the answer.
func s3PutFile(ctx context.Context, c *s3.Client, key, path string) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(ctx, s3CallTimeout)
	defer cancel()
	t0 := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, "", err
	}
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String(key), Body: f, ContentLength: aws.Int64(fi.Size())})
	d := time.Since(t0)
	if err != nil {
		return d, "", err
	}
	return d, aws.ToString(out.ETag), nil
}

// s3GetFile GETs key into a new file at path, timed until the file is
// synced and closed. With check it also returns the MD5 of what was read
// (hashed after the clock stops, from the file).
func s3GetFile(ctx context.Context, c *s3.Client, key, path string, buf []byte, check bool) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(ctx, s3CallTimeout)
	defer cancel()
	t0 := time.Now()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String(key)})
	if err != nil {
		return 0, "", err
	}
	defer out.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	// The wrappers hide ReadFrom/WriteTo: the copy goes through buf, as
	// the baseline's does.
	n, err := io.CopyBuffer(struct{ io.Writer }{f}, struct{ io.Reader }{out.Body}, buf)
	if err != nil {
		return 0, "", fmt.Errorf("reading GetObject's body after %d bytes: %w", n, err)
	}
	if err := f.Sync(); err != nil {
		return 0, "", err
	}
	if err := f.Close(); err != nil {
		return 0, "", err
	}
	d := time.Since(t0)
	if !check {
		return d, "", nil
	}
	sum, err := fileMD5(path)
	return d, sum, err
}

// diskCopy is the baseline: cp through user space, synced.
func diskCopy(src, dst string, buf []byte) (time.Duration, error) {
	t0 := time.Now()
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	if _, err := io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, buf); err != nil {
		return 0, err
	}
	if err := out.Sync(); err != nil {
		return 0, err
	}
	if err := out.Close(); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// writePattern writes size bytes of patternReader to a synced file and
// returns their MD5 in hex.
func writePattern(path string, size int64) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(io.MultiWriter(f, h), &patternReader{size: size}); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}

func fileMD5(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// patternBlock is what patternReader repeats: bytes from a fixed seed, so
// payloads are incompressible and the same in every run.
var patternBlock = func() []byte {
	b := make([]byte, 1<<16+13) // not a power of two: a block never lines up with a buffer
	rand.NewChaCha8([32]byte{'c', 'l', 'o', 'u', 'd', 'b', 'o', 'x'}).Read(b)
	return b
}()

// patternReader yields size bytes of patternBlock, repeated, in constant
// memory: a 2 GiB body without a 2 GiB buffer or file. It does not seek.
type patternReader struct {
	size, off int64
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	if rem := p.size - p.off; int64(len(b)) > rem {
		b = b[:rem]
	}
	n := 0
	for n < len(b) {
		i := int((p.off + int64(n)) % int64(len(patternBlock)))
		n += copy(b[n:], patternBlock[i:])
	}
	p.off += int64(n)
	return n, nil
}

// mbps is the throughput of size bytes in d, in MB/s (10^6 bytes).
func mbps(size int64, d time.Duration) string {
	if d <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB/s", float64(size)/1e6/d.Seconds())
}

func sizeName(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func sameDevice(a, b string) bool {
	var sa, sb syscall.Stat_t
	return syscall.Stat(a, &sa) == nil && syscall.Stat(b, &sb) == nil && sa.Dev == sb.Dev
}

// fsType names the file system under path, for the report.
func fsType(path string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return "unknown file system"
	}
	names := map[int64]string{0xEF53: "ext4", 0x58465342: "xfs", 0x9123683E: "btrfs", 0x01021994: "tmpfs", 0x794c7630: "overlayfs", 0x2FC12FC1: "zfs"}
	if n, ok := names[int64(st.Type)]; ok {
		return n
	}
	return fmt.Sprintf("file system type %#x", st.Type)
}

// ---- s3-latency ----

// s3Phase is one phase of the latency run: every client's requests of one kind.
type s3Phase struct {
	op       string
	lat      []time.Duration // sorted
	wall     time.Duration
	errors   int
	firstErr error
}

func (p s3Phase) rps() float64 { return float64(len(p.lat)) / p.wall.Seconds() }

func benchS3Latency(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: fmt.Sprintf("S3 latency, %s objects, %d concurrent clients", sizeName(s3LatObj), s3LatClients),
		method: fmt.Sprintf("One aws-sdk-go-v2 S3 client with the SDK's defaults as config.LoadDefaultConfig sets them "+
			"(path-style, key test/test, retries off; over http a PUT signs the payload's SHA-256 and sends its CRC32, a "+
			"GET asks for the CRC32 and checks it), shared "+
			"by %d goroutines over keep-alive connections, against a freshly started server (cloudbox with its persistent "+
			"store, and moto in the same run). Untimed: CreateBucket, then %d PUT+GET pairs per goroutine. Then a PUT "+
			"phase: each goroutine PUTs %d new %s objects (keys lat/<client>/<n>) one after another, all goroutines at "+
			"once; when all are done, a GET phase: each GETs its own %d keys and reads each body to the end (checking its "+
			"length). Latency is client-side, SDK call to answer (GET: to the body's end), over all %d requests of a "+
			"phase; requests/s is the phase's requests over its wall time.",
			s3LatClients, s3LatWarmup, s3LatRequests, sizeName(s3LatObj), s3LatRequests, s3LatClients*s3LatRequests),
		table: table{header: []string{"Server", "Operation", "Requests", "Requests/s", "p50", "p90", "p99", "Errors"}},
	}
	targets, err := r.freshTargets()
	if err != nil {
		return s, err
	}
	res := map[int][]s3Phase{}
	for _, i := range []int{cbDisk, motoSrv} {
		t := targets[i]
		p, err := r.start(ctx, t)
		if err != nil {
			return s, err
		}
		r.logf("  %s: %d clients x %d PUTs, then GETs", t.name, s3LatClients, s3LatRequests)
		phases, err := s3LatencyRun(ctx, newS3(p.endpoint, s3Defaults))
		p.stop()
		if err != nil {
			s.table.rows = append(s.table.rows, []string{t.name, "", "", "", s3Err(err), "", "", ""})
			s.notes = append(s.notes, fmt.Sprintf("%s failed: %s", t.name, s3Err(err)))
			continue
		}
		res[i] = phases
		for _, ph := range phases {
			s.table.rows = append(s.table.rows, []string{t.name, ph.op, strconv.Itoa(len(ph.lat)), fmt.Sprintf("%.0f", ph.rps()),
				ms(percentile(ph.lat, 50)), ms(percentile(ph.lat, 90)), ms(percentile(ph.lat, 99)), strconv.Itoa(ph.errors)})
			if ph.errors > 0 {
				s.notes = append(s.notes, fmt.Sprintf("%s %s: %d errors; first: %s", t.name, ph.op, ph.errors, s3Err(ph.firstErr)))
			}
		}
	}
	cb, moto := res[cbDisk], res[motoSrv]
	if len(cb) == 2 && len(moto) == 2 {
		for k := range cb {
			c, m := cb[k], moto[k]
			if len(c.lat) == 0 || len(m.lat) == 0 {
				continue
			}
			r50 := percentile(c.lat, 50).Seconds() / percentile(m.lat, 50).Seconds()
			r99 := percentile(c.lat, 99).Seconds() / percentile(m.lat, 99).Seconds()
			s.notes = append(s.notes, fmt.Sprintf("%s: latency ratio cloudbox/moto %.3f at p50 (%s vs %s, moto %s slower), "+
				"%.3f at p99 (%s vs %s, moto %s slower); throughput **%s moto's** (%.0f vs %.0f requests/s).",
				c.op, r50, ms(percentile(c.lat, 50)), ms(percentile(m.lat, 50)), times(1/r50),
				r99, ms(percentile(c.lat, 99)), ms(percentile(m.lat, 99)), times(1/r99),
				times(c.rps()/m.rps()), c.rps(), m.rps()))
		}
	}
	return s, nil
}

// s3LatencyRun runs the warm-up and the PUT and GET phases with one client.
func s3LatencyRun(ctx context.Context, c *s3.Client) ([]s3Phase, error) {
	if err := s3MakeBucket(ctx, c); err != nil {
		return nil, err
	}
	body := make([]byte, s3LatObj)
	(&patternReader{size: s3LatObj}).Read(body)
	put := func(ctx context.Context, key string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
		return err
	}
	get := func(ctx context.Context, key string) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String(key)})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		n, err := io.Copy(io.Discard, out.Body)
		if err == nil && n != s3LatObj {
			err = fmt.Errorf("GetObject %s: %d bytes, want %d", key, n, s3LatObj)
		}
		return err
	}
	// Warm-up: connections, and each server's first-request paths.
	var wg sync.WaitGroup
	errs := make([]error, s3LatClients)
	for cl := range s3LatClients {
		wg.Go(func() {
			for i := range s3LatWarmup {
				key := fmt.Sprintf("warm/%d/%d", cl, i)
				if err := put(ctx, key); err != nil {
					errs[cl] = err
					return
				}
				if err := get(ctx, key); err != nil {
					errs[cl] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	phase := func(op string, f func(context.Context, string) error) s3Phase {
		ph := s3Phase{op: op}
		var mu sync.Mutex
		t0 := time.Now()
		for cl := range s3LatClients {
			wg.Go(func() {
				lat := make([]time.Duration, 0, s3LatRequests)
				var nerr int
				var first error
				for i := range s3LatRequests {
					cctx, cancel := context.WithTimeout(ctx, time.Minute)
					t := time.Now()
					err := f(cctx, fmt.Sprintf("lat/%d/%d", cl, i))
					d := time.Since(t)
					cancel()
					if err != nil {
						nerr++
						if first == nil {
							first = err
						}
						continue
					}
					lat = append(lat, d)
				}
				mu.Lock()
				ph.lat = append(ph.lat, lat...)
				ph.errors += nerr
				if ph.firstErr == nil {
					ph.firstErr = first
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		ph.wall = time.Since(t0)
		slices.Sort(ph.lat)
		return ph
	}
	phases := []s3Phase{phase("PUT", put), phase("GET", get)}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return phases, nil
}

// ---- s3-rss ----

// s3RSSRun is what one watched upload measured.
type s3RSSRun struct {
	name    string
	idle    int64 // bytes, just before
	max     int64 // largest sample during
	hwm     int64 // VmHWM after, with the peak reset just before (0: unknown)
	samples int
	dur     time.Duration
	err     error
}

func benchS3RSS(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: "cloudbox's memory during a 2 GiB upload",
		method: fmt.Sprintf("Each upload goes to a freshly started cloudbox with its persistent store (data directory "+
			"on %s), which gets CreateBucket and then 1 s of quiet before its VmRSS is read from /proc/PID/status "+
			"(*idle*). Its peak (VmHWM) is then reset (`echo 5 > /proc/PID/clear_refs`), and VmRSS is sampled every %s "+
			"while one aws-sdk-go-v2 client uploads %s generated on the fly (a reader repeating a 64 KiB random block: "+
			"no 2 GiB buffer or file on the client). *PutObject*: one request, Content-Length set, UNSIGNED-PAYLOAD and "+
			"no checksum (the body cannot be read twice: it is not seekable). *Multipart*: the transfer manager "+
			"(feature/s3/manager) with its defaults: 5 MiB parts, 5 at a time, the SDK's default checksums (CRC32 per "+
			"part, signed SHA-256 payloads). After each upload, HeadObject must report the full size; the object is "+
			"then deleted. *Max − idle* is the growth the goal bounds; VmHWM after the upload catches a peak between "+
			"samples. MB are 10^6 bytes.", fsType(r.tmp), s3RSSInterval, sizeName(s3BigObj)),
		table: table{header: []string{"Upload", "Idle RSS", "Max RSS during", "Max − idle", "VmHWM − idle", "Samples", "Upload time", "Throughput"}},
	}
	runs := []*s3RSSRun{{name: "PutObject"}, {name: "Multipart (transfer manager)"}}
	for _, run := range runs {
		dataDir, err := os.MkdirTemp(r.tmp, "data-")
		if err != nil {
			return s, err
		}
		t := r.targetsIn(dataDir)[cbDisk]
		p, err := r.start(ctx, t)
		if err != nil {
			return s, err
		}
		r.logf("  %s of %s", run.name, sizeName(s3BigObj))
		run.err = s3WatchUpload(ctx, p, run)
		p.stop()
		os.RemoveAll(dataDir)
		row := []string{run.name, mb(run.idle)}
		if run.err != nil {
			row = append(row, s3Err(run.err), "", "", strconv.Itoa(run.samples), "", "")
			s.notes = append(s.notes, fmt.Sprintf("%s failed: %s", run.name, s3Err(run.err)))
		} else {
			hwm := "n/a"
			if run.hwm > 0 {
				hwm = mb(run.hwm - run.idle)
			}
			row = append(row, mb(run.max), mb(run.max-run.idle), hwm, strconv.Itoa(run.samples),
				ms(run.dur), mbps(s3BigObj, run.dur))
		}
		s.table.rows = append(s.table.rows, row)
		g := goal{name: "cloudbox RSS during a 2 GiB upload, " + run.name, target: "< " + mb(goalS3RSS) + " above idle"}
		if run.err != nil {
			g.result = "failed"
		} else {
			growth := max(run.max, run.hwm) - run.idle
			g.result = fmt.Sprintf("%s above idle (%s → %s max, VmHWM %s)", mb(growth), mb(run.idle), mb(run.max), mb(run.hwm))
			g.met = growth < goalS3RSS
		}
		s.goals = append(s.goals, g)
	}
	return s, nil
}

// s3WatchUpload measures one upload of s3BigObj into p.
func s3WatchUpload(ctx context.Context, p *proc, run *s3RSSRun) error {
	multipart := strings.HasPrefix(run.name, "Multipart")
	mode := s3Unsigned
	if multipart {
		mode = s3Defaults
	}
	c := newS3(p.endpoint, mode)
	if err := s3MakeBucket(ctx, c); err != nil {
		return err
	}
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	idle, err := procStatus(p.pid, "VmRSS")
	if err != nil {
		return err
	}
	run.idle = idle
	resetHWM := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.pid), []byte("5"), 0)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(s3RSSInterval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if v, err := procStatus(p.pid, "VmRSS"); err == nil {
				run.samples++
				run.max = max(run.max, v)
			}
		}
	})
	const key = "big"
	uctx, cancel := context.WithTimeout(ctx, s3CallTimeout)
	t0 := time.Now()
	if multipart {
		_, err = manager.NewUploader(c).Upload(uctx, &s3.PutObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String(key),
			Body: &patternReader{size: s3BigObj}})
	} else {
		_, err = c.PutObject(uctx, &s3.PutObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String(key),
			Body: &patternReader{size: s3BigObj}, ContentLength: aws.Int64(s3BigObj)})
	}
	run.dur = time.Since(t0)
	cancel()
	close(stop)
	wg.Wait()
	if resetHWM == nil {
		if v, err := procStatus(p.pid, "VmHWM"); err == nil {
			run.hwm = v
		}
	}
	if err != nil {
		return err
	}
	head, err := untimedS3(ctx, func(ctx context.Context) (*s3.HeadObjectOutput, error) {
		return c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String(key)})
	})
	if err != nil {
		return err
	}
	if n := aws.ToInt64(head.ContentLength); n != s3BigObj {
		return fmt.Errorf("HeadObject after the upload: %d bytes, want %d", n, s3BigObj)
	}
	_, err = untimedS3(ctx, func(ctx context.Context) (*s3.DeleteObjectOutput, error) {
		return c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String(key)})
	})
	return err
}

// procStatus reads a kB field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return statusField(string(b), field)
}

// statusField parses "Field:   1234 kB" out of a /proc/PID/status text.
func statusField(status, field string) (int64, error) {
	for line := range strings.Lines(status) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s line", field)
}

// ---- s3-list ----

// s3ListKey is the i-th of n keys, in S3's (byte) order: the first half
// logs/2026/<dd>/<n>.json over s3ListDays days, the second half other/<n>.
func s3ListKey(i, n int) string {
	half := n / 2
	if i < half {
		perDay := half / s3ListDays
		return fmt.Sprintf("logs/2026/%02d/%06d.json", i/perDay+1, i%perDay)
	}
	return fmt.Sprintf("other/%06d", i-half)
}

// s3ListPrefix is the prefix the bench lists, and the index range [from,
// to) of its keys among n.
func s3ListPrefix(n int) (prefix string, from, to int) {
	perDay := n / 2 / s3ListDays
	return fmt.Sprintf("logs/2026/%02d/", s3ListDay), (s3ListDay - 1) * perDay, s3ListDay * perDay
}

// s3ListResult is what one server's listing measured.
type s3ListResult struct {
	keys         int
	fill         time.Duration
	prefix, page samples // SDK call and wire times; answer bytes
	pages        int
	err          error
}

func benchS3List(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: fmt.Sprintf("S3 ListObjectsV2 over %d and %d keys", s3ListShared, s3ListKeys),
		method: fmt.Sprintf("A freshly started server gets one bucket and n keys, PUT by %d concurrent goroutines sharing one "+
			"aws-sdk-go-v2 client (UNSIGNED-PAYLOAD, no checksums; bodies of about 10 bytes): half `logs/2026/<dd>/<n>.json` "+
			"over %d days, half `other/<n>` (n zero-padded); *fill* is that wall time. cloudbox (persistent store) and moto "+
			"both get n = %d: moto takes its PUTs at about 300/s, so %d keys would take it over five minutes; cloudbox "+
			"then gets the issue's n = %d on its own. Then, with the SDK (retries off), one call at a time: *prefix*: "+
			"ListObjectsV2 of Prefix `logs/2026/%02d/` (a tenth of the keys) page by page, MaxKeys %d, following "+
			"NextContinuationToken, timed over all pages; *StartAfter page*: one ListObjectsV2 with StartAfter the middle "+
			"key of the bucket (`other/000000`) and MaxKeys %d. Every answer is checked: the exact keys, in order, and the "+
			"truncation flags. One untimed run of each listing, then %d timed runs (fewer once a listing's runs pass %s, "+
			"at least 3); the table shows medians of the SDK call as the caller sees it and of *wire*, from sending each "+
			"request to having read its whole answer (the server's work and the loopback transfer, without the SDK's XML "+
			"decoding), summed over pages. *Page answer* is the StartAfter page's size on the wire.",
			s3ListFillers, s3ListDays, s3ListShared, s3ListKeys, s3ListKeys, s3ListDay, s3ListPage, s3ListPage, s3ListRuns, s3ListBudget),
		table: table{header: []string{"Server", "Keys", "Fill", "Fill rate", "Prefix listing (keys, pages)", "wire",
			"StartAfter page", "wire", "Page answer", "Runs"}},
	}
	targets, err := r.freshTargets()
	if err != nil {
		return s, err
	}
	type job struct {
		target int
		n      int
		res    *s3ListResult
	}
	jobs := []*job{{target: cbDisk, n: s3ListShared}, {target: motoSrv, n: s3ListShared}, {target: cbDisk, n: s3ListKeys}}
	for _, j := range jobs {
		t := targets[j.target]
		dataDir, err := os.MkdirTemp(r.tmp, "data-")
		if err != nil {
			return s, err
		}
		if j.target == cbDisk {
			t = r.targetsIn(dataDir)[cbDisk] // a fresh store for each count
		}
		p, err := r.start(ctx, t)
		if err != nil {
			return s, err
		}
		j.res = s3ListRun(ctx, r, t.name, p.endpoint, j.n)
		p.stop()
		os.RemoveAll(dataDir)
		x := j.res
		_, from, to := s3ListPrefix(j.n)
		if x.err != nil {
			s.table.rows = append(s.table.rows, []string{t.name, strconv.Itoa(j.n), ms(x.fill), "", s3Err(x.err), "", "", "", "", ""})
			s.notes = append(s.notes, fmt.Sprintf("%s, %d keys, failed: %s", t.name, j.n, s3Err(x.err)))
			continue
		}
		s.table.rows = append(s.table.rows, []string{t.name, strconv.Itoa(x.keys), ms(x.fill),
			fmt.Sprintf("%.0f PUTs/s", float64(x.keys)/x.fill.Seconds()),
			fmt.Sprintf("%s (%d, %d)", ms(x.prefix.p(50)), to-from, x.pages), ms(x.prefix.wp(50)),
			ms(x.page.p(50)), ms(x.page.wp(50)), kb(x.page.bytes),
			fmt.Sprintf("%d, %d", len(x.prefix.sdk), len(x.page.sdk))})
	}
	cb, moto, big := jobs[0].res, jobs[1].res, jobs[2].res
	if cb.err == nil && moto.err == nil {
		_, from, to := s3ListPrefix(s3ListShared)
		s.notes = append(s.notes,
			fmt.Sprintf("%d keys, listing the %d under a prefix: cloudbox is **%s** than moto (median %s vs %s; on the wire alone %s vs %s, %s).",
				s3ListShared, to-from, faster(speedup(moto.prefix.p(50), cb.prefix.p(50))), ms(cb.prefix.p(50)), ms(moto.prefix.p(50)),
				ms(cb.prefix.wp(50)), ms(moto.prefix.wp(50)), faster(speedup(moto.prefix.wp(50), cb.prefix.wp(50)))),
			fmt.Sprintf("%d keys, one page of %d from the middle: cloudbox is **%s** than moto (median %s vs %s; on the wire alone %s vs %s, %s).",
				s3ListShared, s3ListPage, faster(speedup(moto.page.p(50), cb.page.p(50))), ms(cb.page.p(50)), ms(moto.page.p(50)),
				ms(cb.page.wp(50)), ms(moto.page.wp(50)), faster(speedup(moto.page.wp(50), cb.page.wp(50)))),
			fmt.Sprintf("Filling %d keys with %d concurrent small PUTs: cloudbox %.0f PUTs/s, moto %.0f/s (cloudbox %s).", s3ListShared, s3ListFillers,
				float64(cb.keys)/cb.fill.Seconds(), float64(moto.keys)/moto.fill.Seconds(), faster(moto.fill.Seconds()/cb.fill.Seconds())))
	}
	if cb.err == nil && big.err == nil {
		s.notes = append(s.notes, fmt.Sprintf("cloudbox from %d to %d keys: the StartAfter page's wire time is %s (%s → %s); "+
			"the prefix listing's, with 5x the keys to return, %s (%s → %s). The rest of each call is the SDK decoding the XML.",
			s3ListShared, s3ListKeys,
			times(big.page.wp(50).Seconds()/cb.page.wp(50).Seconds()), ms(cb.page.wp(50)), ms(big.page.wp(50)),
			times(big.prefix.wp(50).Seconds()/cb.prefix.wp(50).Seconds()), ms(cb.prefix.wp(50)), ms(big.prefix.wp(50))))
	}
	return s, nil
}

// s3ListRun fills a bucket with n keys and times the two listings.
func s3ListRun(ctx context.Context, r *runner, name, endpoint string, n int) *s3ListResult {
	res := &s3ListResult{}
	c := newS3(endpoint, s3Unsigned)
	wire := &wireClient{http: s3HTTP()}
	lc := newS3With(endpoint, s3Unsigned, wire) // for the listings
	if res.err = s3MakeBucket(ctx, c); res.err != nil {
		return res
	}
	r.logf("  %s: filling %d keys", name, n)
	var next atomic.Int64
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, s3ListFillers)
	fctx, cancel := context.WithCancel(ctx)
	t0 := time.Now()
	for w := range s3ListFillers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || fctx.Err() != nil {
					return
				}
				key := s3ListKey(i, n)
				cctx, ccancel := context.WithTimeout(fctx, time.Minute)
				_, err := c.PutObject(cctx, &s3.PutObjectInput{Bucket: aws.String(s3Bucket), Key: aws.String(key),
					Body: strings.NewReader(fmt.Sprintf(`{"n":%d}`, i))})
				ccancel()
				if err != nil {
					errs[w] = fmt.Errorf("PutObject %s: %w", key, err)
					cancel()
					return
				}
				if d := done.Add(1); d%20000 == 0 {
					r.logf("  %s: %d keys in %s", name, d, time.Since(t0).Round(time.Second))
				}
			}
		})
	}
	wg.Wait()
	cancel()
	res.fill = time.Since(t0)
	res.keys = int(done.Load())
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			res.err = err
			return res
		}
	}
	if res.err = ctx.Err(); res.err != nil {
		return res
	}

	prefix, from, to := s3ListPrefix(n)
	listPrefix := func() error {
		in := &s3.ListObjectsV2Input{Bucket: aws.String(s3Bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(s3ListPage)}
		want, pages := from, 0
		for {
			out, err := untimedS3(ctx, func(ctx context.Context) (*s3.ListObjectsV2Output, error) { return lc.ListObjectsV2(ctx, in) })
			if err != nil {
				return err
			}
			pages++
			for _, o := range out.Contents {
				if want >= to || aws.ToString(o.Key) != s3ListKey(want, n) {
					return fmt.Errorf("prefix listing, page %d: key %q where %q was due", pages, aws.ToString(o.Key), s3ListKey(want, n))
				}
				want++
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			if out.NextContinuationToken == nil || len(out.Contents) == 0 {
				return fmt.Errorf("prefix listing, page %d: truncated with %d keys and continuation token %v", pages, len(out.Contents), out.NextContinuationToken)
			}
			in.ContinuationToken = out.NextContinuationToken
		}
		if want != to {
			return fmt.Errorf("prefix listing: %d keys in %d pages, want %d", want-from, pages, to-from)
		}
		res.pages = pages
		return nil
	}
	listPage := func() error {
		out, err := untimedS3(ctx, func(ctx context.Context) (*s3.ListObjectsV2Output, error) {
			return lc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s3Bucket), StartAfter: aws.String(s3ListKey(n/2, n)), MaxKeys: aws.Int32(s3ListPage)})
		})
		if err != nil {
			return err
		}
		if len(out.Contents) != s3ListPage || !aws.ToBool(out.IsTruncated) {
			return fmt.Errorf("StartAfter page: %d keys, truncated %v; want %d, true", len(out.Contents), aws.ToBool(out.IsTruncated), s3ListPage)
		}
		for j, o := range out.Contents {
			if want := s3ListKey(n/2+1+j, n); aws.ToString(o.Key) != want {
				return fmt.Errorf("StartAfter page: key %d is %q, want %q", j, aws.ToString(o.Key), want)
			}
		}
		return nil
	}
	timed := func(what string, f func() error) (samples, error) {
		r.logf("  %s: %s", name, what)
		var x samples
		if err := f(); err != nil { // untimed first run
			return x, err
		}
		t0 := time.Now()
		for i := range s3ListRuns {
			if i >= 3 && time.Since(t0) > s3ListBudget {
				break
			}
			wire.nanos.Store(0)
			wire.bytes.Store(0)
			t := time.Now()
			if err := f(); err != nil {
				return x, err
			}
			x.add(time.Since(t), time.Duration(wire.nanos.Load()), wire.bytes.Load())
		}
		return x, nil
	}
	if res.prefix, res.err = timed("prefix listing", listPrefix); res.err != nil {
		return res
	}
	res.page, res.err = timed("StartAfter page", listPage)
	return res
}
