package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// The EC2 benches drive every target with aws-sdk-go-v2's EC2 client, as a
// Terraform provider or a test suite would, and check every answer.
const (
	ec2Region      = "us-east-1"
	ec2CallTimeout = 3 * time.Minute // per call: moto takes seconds on big answers
	ec2Batch       = 100             // instances per RunInstances
	ec2Instances   = 1000            // launched by ec2-describe
	ec2Groups      = 1000            // created by ec2-sg
	ec2WebEvery    = 10              // every 10th instance has role=web
)

// describeSizes are the instance counts at which ec2-describe measures, on
// the way up to ec2Instances; multiples of ec2Batch.
var describeSizes = []int{100, 500, 1000}

// wireClient is the EC2 client's HTTP client. It reads each answer to its
// end before handing it to the SDK, and adds up the "wire" time, from sending
// the request to having the whole answer (the server's work plus loopback
// transfer, without the SDK's serializing, signing and XML decoding), and the
// answer bytes, so a timed call can be split into server and client time.
type wireClient struct {
	http  *http.Client
	nanos atomic.Int64
	bytes atomic.Int64
}

func (w *wireClient) Do(req *http.Request) (*http.Response, error) {
	t0 := time.Now()
	resp, err := w.http.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	w.nanos.Add(int64(time.Since(t0)))
	w.bytes.Add(int64(len(body)))
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// ec2Conn is an EC2 client of one server.
type ec2Conn struct {
	api  *ec2.Client
	wire *wireClient
}

func newEC2(endpoint string) *ec2Conn {
	w := &wireClient{http: &http.Client{Transport: &http.Transport{
		Proxy:               nil, // loopback only; never via a proxy from the environment
		MaxIdleConnsPerHost: 4,
		DisableCompression:  true,
	}}}
	api := ec2.New(ec2.Options{
		Region:       ec2Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, ""),
		HTTPClient:   w,
		Retryer:      aws.NopRetryer{}, // a retry would hide an error and skew the time
	})
	return &ec2Conn{api: api, wire: w}
}

func (c *ec2Conn) close() { c.wire.http.CloseIdleConnections() }

// timed runs one (possibly paginated) call under the per-call timeout and
// adds its times to s.
func (c *ec2Conn) timed(ctx context.Context, s *samples, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, ec2CallTimeout)
	defer cancel()
	c.wire.nanos.Store(0)
	c.wire.bytes.Store(0)
	t0 := time.Now()
	if err := f(ctx); err != nil {
		return err
	}
	s.add(time.Since(t0), time.Duration(c.wire.nanos.Load()), c.wire.bytes.Load())
	return nil
}

// freshTargets are the targets with a persistent store of their own, so
// that an EC2 bench starts from an empty cloud, not from what the benches
// before it left in the shared data directory.
func (r *runner) freshTargets() ([]target, error) {
	dir, err := os.MkdirTemp(r.tmp, "data-")
	return r.targetsIn(dir), err
}

// repeat calls f r.ec2Describes times, or fewer once r.ec2Budget is spent
// and at least minCalls were made: moto can take seconds per describe.
func (r *runner) repeat(f func() error) error {
	const minCalls = 3
	t0 := time.Now()
	for i := range r.ec2Describes {
		if i >= minCalls && time.Since(t0) >= r.ec2Budget {
			break
		}
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// untimed runs a setup call under the per-call timeout.
func untimed[T any](ctx context.Context, f func(ctx context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, ec2CallTimeout)
	defer cancel()
	return f(ctx)
}

// samples are the times of repeated calls of one kind.
type samples struct {
	sdk   []time.Duration // whole SDK call, as the caller sees it
	wire  []time.Duration // request sent to answer read, summed over pages
	bytes int64           // answer bytes of the last call, summed over pages
}

func (s *samples) add(sdk, wire time.Duration, n int64) {
	s.sdk = append(s.sdk, sdk)
	s.wire = append(s.wire, wire)
	s.bytes = n
}

// p is the p-th percentile of the SDK times; wp of the wire times.
func (s samples) p(pct float64) time.Duration  { return percentile(sorted(s.sdk), pct) }
func (s samples) wp(pct float64) time.Duration { return percentile(sorted(s.wire), pct) }
func (s samples) min() time.Duration           { return s.p(0) }
func (s samples) max() time.Duration           { return s.p(100) }

func (s samples) total() time.Duration     { return sum(s.sdk) }
func (s samples) wireTotal() time.Duration { return sum(s.wire) }

func sum(d []time.Duration) time.Duration {
	var t time.Duration
	for _, x := range d {
		t += x
	}
	return t
}

func sorted(d []time.Duration) []time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d
}

// errCell is how an error reads in a table cell: the operation, the AWS
// error code and message when there is one, kept short.
func errCell(err error) string {
	s := err.Error()
	var api smithy.APIError
	if errors.As(err, &api) {
		s = api.ErrorCode() + ": " + api.ErrorMessage()
		var op *smithy.OperationError
		if errors.As(err, &op) {
			s = op.Operation() + ": " + s
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 140 {
		s = string(r[:140]) + "…"
	}
	return "error: " + s
}

// speedup is how many times longer moto took than cloudbox.
func speedup(moto, cb time.Duration) float64 { return moto.Seconds() / cb.Seconds() }

// faster words a speedup: "15.3x faster", or "1.37x slower" below 1.
func faster(x float64) string {
	if x >= 1 {
		return times(x) + " faster"
	}
	return times(1/x) + " slower"
}

// us formats a small duration in microseconds.
func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

// kb formats an answer size.
func kb(n int64) string { return fmt.Sprintf("%.1f kB", float64(n)/1e3) }

// findAMI picks the AMI to launch: the first x86_64 one, by name, of those
// Amazon owns named like Amazon Linux 2023 (or else Amazon Linux 2). Both
// servers ship such images, under different ids.
func (c *ec2Conn) findAMI(ctx context.Context) (string, error) {
	for _, pattern := range []string{"al2023-ami-*", "amzn2-ami-*"} {
		out, err := untimed(ctx, func(ctx context.Context) (*ec2.DescribeImagesOutput, error) {
			return c.api.DescribeImages(ctx, &ec2.DescribeImagesInput{
				Owners:  []string{"amazon"},
				Filters: []types.Filter{{Name: aws.String("name"), Values: []string{pattern}}},
			})
		})
		if err != nil {
			return "", err
		}
		var imgs []types.Image
		for _, img := range out.Images {
			if img.Architecture == types.ArchitectureValuesX8664 && img.ImageId != nil && img.Name != nil {
				imgs = append(imgs, img)
			}
		}
		if len(imgs) > 0 {
			slices.SortFunc(imgs, func(a, b types.Image) int { return strings.Compare(*a.Name, *b.Name) })
			return *imgs[0].ImageId, nil
		}
	}
	return "", errors.New("DescribeImages: no x86_64 al2023-ami-* or amzn2-ami-* image owned by amazon")
}

// network hands out fresh /20 subnets, 16 per VPC 10.N.0.0/16.
type network struct {
	c    *ec2Conn
	vpcs []string
	n    int
}

func (nw *network) vpc(ctx context.Context, i int) (string, error) {
	for len(nw.vpcs) <= i {
		out, err := untimed(ctx, func(ctx context.Context) (*ec2.CreateVpcOutput, error) {
			return nw.c.api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(fmt.Sprintf("10.%d.0.0/16", len(nw.vpcs)))})
		})
		if err != nil {
			return "", err
		}
		if out.Vpc == nil || out.Vpc.VpcId == nil {
			return "", errors.New("CreateVpc: no VpcId in the answer")
		}
		nw.vpcs = append(nw.vpcs, *out.Vpc.VpcId)
	}
	return nw.vpcs[i], nil
}

func (nw *network) subnet(ctx context.Context) (string, error) {
	v, k := nw.n/16, nw.n%16
	vpc, err := nw.vpc(ctx, v)
	if err != nil {
		return "", err
	}
	out, err := untimed(ctx, func(ctx context.Context) (*ec2.CreateSubnetOutput, error) {
		return nw.c.api.CreateSubnet(ctx, &ec2.CreateSubnetInput{
			VpcId:     aws.String(vpc),
			CidrBlock: aws.String(fmt.Sprintf("10.%d.%d.0/20", v, k*16)),
		})
	})
	if err != nil {
		return "", err
	}
	if out.Subnet == nil || out.Subnet.SubnetId == nil {
		return "", errors.New("CreateSubnet: no SubnetId in the answer")
	}
	nw.n++
	return *out.Subnet.SubnetId, nil
}

// runInstances launches n instances into subnet, tagged with tags, and
// checks the answer lists n instances there.
func (c *ec2Conn) runInstances(ctx context.Context, s *samples, ami, subnet string, n int, tags ...string) error {
	in := &ec2.RunInstancesInput{
		ImageId:      aws.String(ami),
		InstanceType: types.InstanceTypeT2Micro,
		MinCount:     aws.Int32(int32(n)),
		MaxCount:     aws.Int32(int32(n)),
		SubnetId:     aws.String(subnet),
	}
	if len(tags) > 0 {
		ts := types.TagSpecification{ResourceType: types.ResourceTypeInstance}
		for i := 0; i+1 < len(tags); i += 2 {
			ts.Tags = append(ts.Tags, types.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
		}
		in.TagSpecifications = []types.TagSpecification{ts}
	}
	var out *ec2.RunInstancesOutput
	err := c.timed(ctx, s, func(ctx context.Context) (err error) {
		out, err = c.api.RunInstances(ctx, in)
		return err
	})
	if err != nil {
		return err
	}
	if len(out.Instances) != n {
		return fmt.Errorf("RunInstances of %d: %d instances in the answer", n, len(out.Instances))
	}
	for _, inst := range out.Instances {
		if inst.InstanceId == nil || aws.ToString(inst.SubnetId) != subnet {
			return fmt.Errorf("RunInstances: instance %s in subnet %q, want %s",
				aws.ToString(inst.InstanceId), aws.ToString(inst.SubnetId), subnet)
		}
	}
	return nil
}

// describeInstances lists, through the paginator, the instances matching
// filters, and returns how many there are and on how many pages.
func (c *ec2Conn) describeInstances(ctx context.Context, s *samples, maxResults int32, filters ...types.Filter) (n, pages int, err error) {
	in := &ec2.DescribeInstancesInput{Filters: filters}
	if maxResults > 0 {
		in.MaxResults = aws.Int32(maxResults)
	}
	err = c.timed(ctx, s, func(ctx context.Context) error {
		p := ec2.NewDescribeInstancesPaginator(c.api, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			pages++
			for _, res := range out.Reservations {
				n += len(res.Instances)
			}
		}
		return nil
	})
	return n, pages, err
}

func tagFilter(key, value string) types.Filter {
	return types.Filter{Name: aws.String("tag:" + key), Values: []string{value}}
}

// ---- ec2-run ----

type runResult struct {
	ami   string
	calls samples
	err   error
}

func benchEC2Run(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: "EC2 RunInstances, 100 instances per call",
		method: fmt.Sprintf("aws-sdk-go-v2's EC2 client (us-east-1, key test/test, retries off) against a freshly "+
			"started server. Untimed set-up: DescribeImages (owner amazon, name `al2023-ami-*`, first x86_64 image "+
			"by name; each server ships its own copy under its own id), CreateVpc 10.0.0.0/16, and one warm-up "+
			"RunInstances of 1 instance. Then %d timed RunInstances, one at a time, each of MinCount = MaxCount = %d "+
			"t2.micro instances into a fresh /20 subnet (created untimed; 16 per VPC), so earlier instances stay "+
			"and each run sees %d more. A run counts only if the answer lists %d instances in that subnet. "+
			"*Call* is the SDK call as the caller sees it; *wire* is from sending the request to having read the "+
			"whole answer (the server's work plus loopback transfer, without the SDK's signing and XML decoding).",
			r.ec2Runs, ec2Batch, ec2Batch, ec2Batch),
		table: table{header: []string{"Server", "Call p50", "min", "max", "Wire p50", "Answer", "Runs", "AMI"}},
	}
	targets, err := r.freshTargets()
	if err != nil {
		return s, err
	}
	res := make([]runResult, len(targets))
	for i, t := range targets {
		r.logf("  %s: %d x RunInstances of %d", t.name, r.ec2Runs, ec2Batch)
		p, err := r.start(ctx, t)
		if err != nil {
			return s, err
		}
		res[i] = runOne(ctx, r, p)
		p.stop()
		if err := ctx.Err(); err != nil {
			return s, err
		}
		x := res[i]
		if x.err != nil {
			r.logf("  %s: %v", t.name, x.err)
			s.table.rows = append(s.table.rows, []string{t.name, errCell(x.err), "", "", "", "", strconv.Itoa(len(x.calls.sdk)), x.ami})
			continue
		}
		s.table.rows = append(s.table.rows, []string{t.name, ms(x.calls.p(50)), ms(x.calls.min()), ms(x.calls.max()),
			ms(x.calls.wp(50)), kb(x.calls.bytes), strconv.Itoa(len(x.calls.sdk)), "`" + x.ami + "`"})
	}
	moto := res[motoSrv]
	for _, i := range []int{cbMem, cbDisk} {
		if res[i].err != nil || moto.err != nil {
			continue
		}
		s.notes = append(s.notes, fmt.Sprintf("%s launches 100 instances **%s** than moto (p50 %s vs %s; min %s vs %s, %s); "+
			"%.0f%% of its call time is on the wire, the rest in the SDK.",
			targets[i].name, faster(speedup(moto.calls.p(50), res[i].calls.p(50))), ms(res[i].calls.p(50)), ms(moto.calls.p(50)),
			ms(res[i].calls.min()), ms(moto.calls.min()), times(speedup(moto.calls.min(), res[i].calls.min())),
			100*res[i].calls.wp(50).Seconds()/res[i].calls.p(50).Seconds()))
	}
	s.goals = append(s.goals, speedGoal("EC2 RunInstances, 100 instances", targets,
		func(i int) error { return res[i].err },
		func(i int) time.Duration { return res[i].calls.p(50) },
		func(i int) time.Duration { return res[i].calls.wp(50) }, "p50"))
	return s, nil
}

func runOne(ctx context.Context, r *runner, p *proc) (res runResult) {
	c := newEC2(p.endpoint)
	defer c.close()
	if res.ami, res.err = c.findAMI(ctx); res.err != nil {
		return res
	}
	nw := &network{c: c}
	subnet, err := nw.subnet(ctx)
	if err != nil {
		res.err = err
		return res
	}
	if err := c.runInstances(ctx, &samples{}, res.ami, subnet, 1); err != nil {
		res.err = fmt.Errorf("warm-up: %w", err)
		return res
	}
	for range r.ec2Runs {
		subnet, err := nw.subnet(ctx)
		if err != nil {
			res.err = err
			return res
		}
		if err := c.runInstances(ctx, &res.calls, res.ami, subnet, ec2Batch); err != nil {
			res.err = err
			return res
		}
	}
	return res
}

// speedGoal words the ≥ 10x goal of one measurement, judged on cloudbox
// (ephemeral) as the STS goal is, with the wire-only ratio and the
// persistent store alongside. t is a target's time as the SDK caller sees
// it, wire the wire part of it; errs its error, if any.
func speedGoal(name string, targets []target, errs func(i int) error, t, wire func(i int) time.Duration, what string) goal {
	g := goal{name: name, target: "≥ " + times(goalThroughput) + " moto's speed"}
	switch {
	case errs(cbMem) != nil:
		g.result = targets[cbMem].name + " " + errCell(errs(cbMem))
		return g
	case errs(motoSrv) != nil:
		g.result = fmt.Sprintf("moto %s; cloudbox (ephemeral) %s %s", errCell(errs(motoSrv)), what, ms(t(cbMem)))
		return g
	}
	x := speedup(t(motoSrv), t(cbMem))
	g.met = x >= goalThroughput
	g.result = fmt.Sprintf("cloudbox (ephemeral) %s moto's: %s %s vs %s (on the wire alone %s)",
		times(x), what, ms(t(cbMem)), ms(t(motoSrv)), times(speedup(wire(motoSrv), wire(cbMem))))
	if err := errs(cbDisk); err != nil {
		g.result += "; persistent " + errCell(err)
	} else {
		g.result += fmt.Sprintf("; persistent %s (%s)", times(speedup(t(motoSrv), t(cbDisk))), ms(t(cbDisk)))
	}
	return g
}

// ---- ec2-describe ----

type describeSize struct {
	instances     int
	web           samples // tag:role=web, size/10 instances
	batch0        samples // tag:batch=0, always the first 100 instances
	all           samples // no filter, paginated
	webN, allN    int     // instances returned (the last call's; all calls are checked)
	batchN, pages int
}

type describeResult struct {
	sizes  []describeSize
	launch samples // the RunInstances calls
	rss    int64   // after launching all instances
	err    error
}

func benchEC2Describe(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: "EC2 DescribeInstances as the instance count grows",
		method: fmt.Sprintf("On a freshly started server (EC2 client and AMI as above), one VPC and one 10.0.0.0/20 "+
			"subnet get %d instances, launched %d at a time, one call at a time: each batch k is one RunInstances "+
			"of 90 instances tagged role=app, batch=k and one of 10 tagged role=web, batch=k (TagSpecifications), "+
			"so every 10th instance is a web server. At %s instances, on the way up, three DescribeInstances are "+
			"each timed %d times, one call at a time: *tag:role=web* (one call, matching a tenth of the instances, "+
			"so its answer grows with the count), *tag:batch=0* (always the same first 100 instances: the same "+
			"answer whatever the count, which is what shows whether latency stays flat), and *all* (no filter, "+
			"through the SDK paginator with MaxResults 1000). Every call's instance count is checked. "+
			"A measurement stops early once it has taken %s (after at least 3 calls); *Calls* says how many "+
			"were made of each. Latency is the SDK call as the caller sees it; *wire* excludes the SDK's XML decoding.",
			ec2Instances, ec2Batch, joinInts(describeSizes), r.ec2Describes, r.ec2Budget),
		table: table{header: []string{"Server", "Instances", "role=web p50", "p90", "wire p50", "Matched",
			"batch=0 p50", "p90", "wire p50", "All p50", "p90", "wire p50", "Returned (pages)", "Calls"}},
	}
	targets, err := r.freshTargets()
	if err != nil {
		return s, err
	}
	res := make([]describeResult, len(targets))
	for i, t := range targets {
		r.logf("  %s: %d instances, %d describes per size", t.name, ec2Instances, r.ec2Describes)
		p, err := r.start(ctx, t)
		if err != nil {
			return s, err
		}
		res[i] = describeOne(ctx, r, p)
		p.stop()
		if err := ctx.Err(); err != nil {
			return s, err
		}
		x := res[i]
		for _, z := range x.sizes {
			s.table.rows = append(s.table.rows, []string{t.name, strconv.Itoa(z.instances),
				ms(z.web.p(50)), ms(z.web.p(90)), ms(z.web.wp(50)), strconv.Itoa(z.webN),
				ms(z.batch0.p(50)), ms(z.batch0.p(90)), ms(z.batch0.wp(50)),
				ms(z.all.p(50)), ms(z.all.p(90)), ms(z.all.wp(50)), fmt.Sprintf("%d (%d)", z.allN, z.pages),
				fmt.Sprintf("%d/%d/%d", len(z.web.sdk), len(z.batch0.sdk), len(z.all.sdk))})
		}
		if x.err != nil {
			r.logf("  %s: %v", t.name, x.err)
			row := []string{t.name, "", errCell(x.err)}
			for len(row) < len(s.table.header) {
				row = append(row, "")
			}
			s.table.rows = append(s.table.rows, row)
		}
	}

	// Ratios at the largest size, and growth from the smallest to it.
	full := func(i int) bool { return res[i].err == nil }
	last := len(describeSizes) - 1
	at := func(i, k int) describeSize { return res[i].sizes[k] }
	moto := motoSrv
	for _, i := range []int{cbMem, cbDisk} {
		if !full(i) || !full(moto) {
			continue
		}
		a, m := at(i, last), at(moto, last)
		s.notes = append(s.notes, fmt.Sprintf("At %s instances, %s answers tag:role=web **%s** than moto (p50 %s vs %s), "+
			"tag:batch=0 %s (%s vs %s) and all instances %s (%s vs %s; on the wire alone %s vs %s, %s).",
			thousands(a.instances), targets[i].name, faster(speedup(m.web.p(50), a.web.p(50))), ms(a.web.p(50)), ms(m.web.p(50)),
			faster(speedup(m.batch0.p(50), a.batch0.p(50))), ms(a.batch0.p(50)), ms(m.batch0.p(50)),
			faster(speedup(m.all.p(50), a.all.p(50))), ms(a.all.p(50)), ms(m.all.p(50)),
			ms(a.all.wp(50)), ms(m.all.wp(50)), faster(speedup(m.all.wp(50), a.all.wp(50)))))
	}
	for i, t := range targets {
		if !full(i) {
			continue
		}
		first, a := at(i, 0), at(i, last)
		perInstance := (a.batch0.wp(50) - first.batch0.wp(50)) / time.Duration(a.instances-first.instances)
		s.notes = append(s.notes, fmt.Sprintf("%s, from %s to %s instances (p50): tag:batch=0 (same answer) %s → %s (%s; "+
			"on the wire %s more per instance stored); tag:role=web (%d → %d matched) %s → %s (%s); all %s → %s (%s).",
			t.name, thousands(first.instances), thousands(a.instances),
			ms(first.batch0.p(50)), ms(a.batch0.p(50)), times(a.batch0.p(50).Seconds()/first.batch0.p(50).Seconds()), us(perInstance),
			first.webN, a.webN, ms(first.web.p(50)), ms(a.web.p(50)), times(a.web.p(50).Seconds()/first.web.p(50).Seconds()),
			ms(first.all.p(50)), ms(a.all.p(50)), times(a.all.p(50).Seconds()/first.all.p(50).Seconds())))
	}
	for i, t := range targets {
		if !full(i) {
			continue
		}
		x := res[i]
		wire := x.sizes[last].all
		s.notes = append(s.notes, fmt.Sprintf("%s: launching the %s instances took %s in %d RunInstances calls; RSS after: %s. "+
			"The unfiltered answer is %s, and %.0f%% of the call is on the wire (p50 %s of %s), the rest in the SDK.",
			t.name, thousands(ec2Instances), ms(x.launch.total()), len(x.launch.sdk), mb(x.rss),
			kb(wire.bytes), 100*wire.wp(50).Seconds()/wire.p(50).Seconds(), ms(wire.wp(50)), ms(wire.p(50))))
	}

	errs := func(i int) error { return res[i].err }
	p50 := func(f func(describeSize) samples) func(i int) time.Duration {
		return func(i int) time.Duration { return f(res[i].sizes[last]).p(50) }
	}
	wp50 := func(f func(describeSize) samples) func(i int) time.Duration {
		return func(i int) time.Duration { return f(res[i].sizes[last]).wp(50) }
	}
	web := func(z describeSize) samples { return z.web }
	all := func(z describeSize) samples { return z.all }
	s.goals = append(s.goals,
		speedGoal(fmt.Sprintf("EC2 DescribeInstances, %s instances, filter tag:role=web", thousands(ec2Instances)),
			targets, errs, p50(web), wp50(web), "p50"),
		speedGoal(fmt.Sprintf("EC2 DescribeInstances, all %s instances", thousands(ec2Instances)),
			targets, errs, p50(all), wp50(all), "p50"),
		flatGoal(targets, res))
	return s, nil
}

// goalFlat is how much the p50 of the same-answer describe may grow from the
// smallest to the largest count and still be called flat.
const goalFlat = 1.5

func flatGoal(targets []target, res []describeResult) goal {
	g := goal{name: "Flat describe latency as the count grows",
		target: fmt.Sprintf("DescribeInstances tag:batch=0 (same 100-instance answer) p50 at %s instances ≤ %s at %d",
			thousands(describeSizes[len(describeSizes)-1]), times(goalFlat), describeSizes[0])}
	if err := res[cbMem].err; err != nil {
		g.result = targets[cbMem].name + " " + errCell(err)
		return g
	}
	growth := func(i int) (float64, string) {
		z := res[i].sizes
		var p []string
		for _, s := range z {
			p = append(p, ms(s.batch0.p(50)))
		}
		return z[len(z)-1].batch0.p(50).Seconds() / z[0].batch0.p(50).Seconds(), strings.Join(p, " → ")
	}
	x, path := growth(cbMem)
	g.met = x <= goalFlat
	g.result = fmt.Sprintf("cloudbox (ephemeral) %s (%s) at %s instances", times(x), path, joinInts(describeSizes))
	if res[cbDisk].err == nil {
		x, _ := growth(cbDisk)
		g.result += fmt.Sprintf("; persistent %s", times(x))
	}
	if res[motoSrv].err == nil {
		x, path := growth(motoSrv)
		g.result += fmt.Sprintf("; moto %s (%s)", times(x), path)
	}
	return g
}

func describeOne(ctx context.Context, r *runner, p *proc) (res describeResult) {
	c := newEC2(p.endpoint)
	defer c.close()
	ami, err := c.findAMI(ctx)
	if err != nil {
		res.err = err
		return res
	}
	subnet, err := (&network{c: c}).subnet(ctx)
	if err != nil {
		res.err = err
		return res
	}
	web := ec2Batch / ec2WebEvery
	next := 0
	for k := 0; k*ec2Batch < ec2Instances; k++ {
		batch := strconv.Itoa(k)
		if err := c.runInstances(ctx, &res.launch, ami, subnet, ec2Batch-web, "role", "app", "batch", batch); err != nil {
			res.err = err
			return res
		}
		if err := c.runInstances(ctx, &res.launch, ami, subnet, web, "role", "web", "batch", batch); err != nil {
			res.err = err
			return res
		}
		count := (k + 1) * ec2Batch
		if next >= len(describeSizes) || describeSizes[next] != count {
			continue
		}
		next++
		r.logf("    %d instances", count)
		z := describeSize{instances: count}
		check := func(what string, n, want int, err error) error {
			if err == nil && n != want {
				err = fmt.Errorf("DescribeInstances %s at %d instances: %d returned, want %d", what, count, n, want)
			}
			return err
		}
		res.err = r.repeat(func() error {
			n, _, err := c.describeInstances(ctx, &z.web, 0, tagFilter("role", "web"))
			z.webN = n
			return check("tag:role=web", n, count/ec2WebEvery, err)
		})
		if res.err == nil {
			res.err = r.repeat(func() error {
				n, _, err := c.describeInstances(ctx, &z.batch0, 0, tagFilter("batch", "0"))
				z.batchN = n
				return check("tag:batch=0", n, ec2Batch, err)
			})
		}
		if res.err == nil {
			res.err = r.repeat(func() error {
				n, pages, err := c.describeInstances(ctx, &z.all, 1000)
				z.allN, z.pages = n, pages
				return check("(all)", n, count, err)
			})
		}
		if res.err != nil {
			return res
		}
		res.sizes = append(res.sizes, z)
	}
	res.rss, _, _ = p.rss()
	return res
}

func joinInts(v []int) string {
	var s []string
	for _, n := range v {
		s = append(s, thousands(n))
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// thousands formats n with a comma every three digits: 1,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ---- ec2-sg ----

type sgResult struct {
	create, authorize samples
	build             time.Duration // wall time of creating all groups and rules
	describe          samples
	returned, pages   int
	err               error
}

func benchEC2SG(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: "EC2 security groups: 1,000 groups with rules",
		method: fmt.Sprintf("On a freshly started server (EC2 client as above), one VPC 10.0.0.0/16 and, untimed, a "+
			"*bastion* group in it. Then, timed as a whole and call by call, %s groups are created one call at a "+
			"time (no concurrency, so the per-call latencies are clean): CreateSecurityGroup in the VPC, then one "+
			"AuthorizeSecurityGroupIngress with two rules, tcp 80 from 0.0.0.0/0 and tcp 22 from the bastion group. "+
			"Then DescribeSecurityGroups of all groups (no filter, SDK paginator with MaxResults 1000) is timed %d "+
			"times, or fewer once it has taken %s (after at least 3 calls); every answer must list each created "+
			"group with exactly its two rules.",
			thousands(ec2Groups), r.ec2Describes, r.ec2Budget),
		table: table{header: []string{"Server", "Create all", "CreateSecurityGroup p50", "AuthorizeSecurityGroupIngress p50",
			"Describe p50", "p90", "wire p50", "Returned (pages)", "Calls"}},
	}
	targets, err := r.freshTargets()
	if err != nil {
		return s, err
	}
	res := make([]sgResult, len(targets))
	for i, t := range targets {
		r.logf("  %s: %d security groups, %d describes", t.name, ec2Groups, r.ec2Describes)
		p, err := r.start(ctx, t)
		if err != nil {
			return s, err
		}
		res[i] = sgOne(ctx, r, p)
		p.stop()
		if err := ctx.Err(); err != nil {
			return s, err
		}
		x := res[i]
		if x.err != nil {
			r.logf("  %s: %v", t.name, x.err)
			s.table.rows = append(s.table.rows, []string{t.name, errCell(x.err), "", "", "", "", "", "", ""})
			continue
		}
		s.table.rows = append(s.table.rows, []string{t.name, ms(x.build),
			ms(x.create.p(50)), ms(x.authorize.p(50)), ms(x.describe.p(50)), ms(x.describe.p(90)), ms(x.describe.wp(50)),
			fmt.Sprintf("%d (%d)", x.returned, x.pages), strconv.Itoa(len(x.describe.sdk))})
	}
	moto := res[motoSrv]
	for _, i := range []int{cbMem, cbDisk} {
		x := res[i]
		if x.err != nil || moto.err != nil {
			continue
		}
		s.notes = append(s.notes, fmt.Sprintf("%s creates the %s groups and their rules **%s** than moto (%s vs %s; "+
			"CreateSecurityGroup p50 %s, AuthorizeSecurityGroupIngress p50 %s) and describes them all **%s** "+
			"(p50 %s vs %s; answer %s).",
			targets[i].name, thousands(ec2Groups), faster(speedup(moto.build, x.build)), ms(x.build), ms(moto.build),
			faster(speedup(moto.create.p(50), x.create.p(50))), faster(speedup(moto.authorize.p(50), x.authorize.p(50))),
			faster(speedup(moto.describe.p(50), x.describe.p(50))), ms(x.describe.p(50)), ms(moto.describe.p(50)), kb(x.describe.bytes)))
	}
	for i, t := range targets {
		x := res[i]
		if x.err != nil {
			continue
		}
		first, last := samples{sdk: x.create.sdk[:100]}, samples{sdk: x.create.sdk[len(x.create.sdk)-100:]}
		s.notes = append(s.notes, fmt.Sprintf("%s: CreateSecurityGroup p50 over the first 100 groups %s, over the last 100 %s (%s).",
			t.name, ms(first.p(50)), ms(last.p(50)), times(last.p(50).Seconds()/first.p(50).Seconds())))
	}
	errs := func(i int) error { return res[i].err }
	s.goals = append(s.goals,
		speedGoal(fmt.Sprintf("EC2 create %s security groups with 2 rules each", thousands(ec2Groups)), targets, errs,
			func(i int) time.Duration { return res[i].build },
			func(i int) time.Duration { return res[i].create.wireTotal() + res[i].authorize.wireTotal() }, "total"),
		speedGoal(fmt.Sprintf("EC2 DescribeSecurityGroups, %s groups", thousands(ec2Groups)), targets, errs,
			func(i int) time.Duration { return res[i].describe.p(50) },
			func(i int) time.Duration { return res[i].describe.wp(50) }, "p50"))
	return s, nil
}

func sgOne(ctx context.Context, r *runner, p *proc) (res sgResult) {
	c := newEC2(p.endpoint)
	defer c.close()
	vpc, err := (&network{c: c}).vpc(ctx, 0)
	if err != nil {
		res.err = err
		return res
	}
	createSG := func(s *samples, name string) (string, error) {
		var out *ec2.CreateSecurityGroupOutput
		err := c.timed(ctx, s, func(ctx context.Context) (err error) {
			out, err = c.api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
				GroupName: aws.String(name), Description: aws.String("cloudbox bench " + name), VpcId: aws.String(vpc),
			})
			return err
		})
		if err != nil {
			return "", err
		}
		if out.GroupId == nil || *out.GroupId == "" {
			return "", fmt.Errorf("CreateSecurityGroup %s: no GroupId in the answer", name)
		}
		return *out.GroupId, nil
	}
	bastion, err := createSG(&samples{}, "bench-bastion")
	if err != nil {
		res.err = err
		return res
	}
	perms := []types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
			IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(bastion)}}},
	}
	ids := make([]string, 0, ec2Groups)
	t0 := time.Now()
	for i := range ec2Groups {
		id, err := createSG(&res.create, fmt.Sprintf("bench-%04d", i))
		if err != nil {
			res.err = err
			return res
		}
		ids = append(ids, id)
		var out *ec2.AuthorizeSecurityGroupIngressOutput
		err = c.timed(ctx, &res.authorize, func(ctx context.Context) (err error) {
			out, err = c.api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: perms})
			return err
		})
		if err != nil {
			res.err = err
			return res
		}
		if out.Return != nil && !*out.Return {
			res.err = fmt.Errorf("AuthorizeSecurityGroupIngress %s: Return false", id)
			return res
		}
	}
	res.build = time.Since(t0)

	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	res.err = r.repeat(func() error {
		var groups []types.SecurityGroup
		pages := 0
		err := c.timed(ctx, &res.describe, func(ctx context.Context) error {
			groups = groups[:0]
			pg := ec2.NewDescribeSecurityGroupsPaginator(c.api, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(1000)})
			for pg.HasMorePages() {
				out, err := pg.NextPage(ctx)
				if err != nil {
					return err
				}
				pages++
				groups = append(groups, out.SecurityGroups...)
			}
			return nil
		})
		if err == nil {
			err = checkGroups(groups, want, bastion)
		}
		res.returned, res.pages = len(groups), pages
		return err
	})
	return res
}

// checkGroups checks that groups has each of want once, with exactly the two
// rules the bench authorized.
func checkGroups(groups []types.SecurityGroup, want map[string]bool, bastion string) error {
	seen := map[string]bool{}
	for _, g := range groups {
		id := aws.ToString(g.GroupId)
		if !want[id] {
			continue
		}
		if seen[id] {
			return fmt.Errorf("DescribeSecurityGroups: %s listed twice", id)
		}
		seen[id] = true
		var web, ssh bool
		for _, p := range g.IpPermissions {
			from, proto := aws.ToInt32(p.FromPort), aws.ToString(p.IpProtocol)
			switch {
			case proto == "tcp" && from == 80 && len(p.IpRanges) == 1 && aws.ToString(p.IpRanges[0].CidrIp) == "0.0.0.0/0":
				web = true
			case proto == "tcp" && from == 22 && len(p.UserIdGroupPairs) == 1 && aws.ToString(p.UserIdGroupPairs[0].GroupId) == bastion:
				ssh = true
			}
		}
		if len(g.IpPermissions) != 2 || !web || !ssh {
			return fmt.Errorf("DescribeSecurityGroups: %s has %d ingress permissions, want tcp 80 from 0.0.0.0/0 and tcp 22 from %s",
				id, len(g.IpPermissions), bastion)
		}
	}
	if len(seen) != len(want) {
		return fmt.Errorf("DescribeSecurityGroups: %d of the %d created groups listed (%d groups in all)", len(seen), len(want), len(groups))
	}
	return nil
}

// allowFrom lets the members of group from open connections to group on
// port.
func (e *ec2Conn) allowFrom(ctx context.Context, group, from string, port int32) error {
	_, err := e.api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(group),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
			UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(from)}}}}})
	return err
}

// launchClient starts the instance a data-tier benchmark drives its load
// from: Amazon Linux 2 on a c5.large in subnet, behind group, with
// package installed by yum at its first boot.
func (e *ec2Conn) launchClient(ctx context.Context, subnet, group, pkg string) (string, error) {
	imgs, err := e.api.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}, Filters: []types.Filter{
		{Name: aws.String("name"), Values: []string{"amzn2-ami-hvm-*"}}, {Name: aws.String("architecture"), Values: []string{"x86_64"}}}})
	if err != nil {
		return "", err
	}
	if len(imgs.Images) == 0 {
		return "", errors.New("DescribeImages: no amzn2-ami-hvm-* x86_64 image")
	}
	run, err := e.api.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: imgs.Images[0].ImageId, InstanceType: types.InstanceTypeC5Large, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: aws.String(subnet), SecurityGroupIds: []string{group},
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\nyum install -y " + pkg + " >/var/log/install.log 2>&1\n"))),
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(run.Instances[0].InstanceId), nil
}
