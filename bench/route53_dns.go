package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cloudbox/cloudbox/controllers"
	"github.com/cloudbox/cloudbox/desired"
)

const (
	r53DNSBig      = "bench.internal" // the private zone of r53DNSRecords records
	r53DNSSmall    = "small.internal" // the private zone of r53DNSFew records
	r53DNSRecords  = 10_000
	r53DNSFew      = 10
	r53DNSClients  = 16             // concurrent questions of the load generator
	r53DNSDir      = "/opt/cbbench" // in the instances
	r53DNSPeerPID  = "/run/cbbench-dnsmasq.pid"
	r53DNSPeerHost = r53DNSDir + "/hosts"
)

// r53DNSServer is one of the two resolvers asked.
type r53DNSServer struct {
	name string
	addr string // IP:53, inside the VPC
}

// r53DNSRuns are one server's load runs on one zone.
type r53DNSRuns struct {
	qps, p50, p99           []float64
	queries, errs, timeouts int
	firstErr                string
}

// r53DNSResult is everything the bench measured; [0] is cloudbox's
// resolver, [1] the peer.
type r53DNSResult struct {
	few, many                [2]r53DNSRuns
	before, records, queried [2]int64 // RSS
	afterLoad                [2]int64
	recordsIdle              int64      // the daemon's, 5 s after records[0], idle
	sweep                    [2]float64 // seconds to ask for all the records once
	peerVersion              string
	// visible is when the resolver first answered the last record of
	// the small zone [0] and the big one [1] after the last
	// ChangeResourceRecordSets of the zone returned.
	visible [2]r53DNSWait
}

// r53DNSWait is how long a resolver took to answer a new record.
type r53DNSWait struct {
	after time.Duration // from the call to the right answer
	tries int
	try   time.Duration // the successful try: the load generator's start through cloudbox exec and one question
}

// benchRoute53DNS measures the VPC resolver (engines/vpcdns, served by the
// daemon at the VPC's base + 2) answering a private hosted zone, from
// inside an instance, against Debian's dnsmasq serving the same records
// from another instance of the same VPC, and what 10,000 records cost
// each in memory.
func benchRoute53DNS(ctx context.Context, r *runner) (section, error) {
	const title = "Route 53 private zone through the VPC resolver vs dnsmasq"
	if err := controllers.Check(); err != nil {
		return skipped(title, err), nil
	}
	runs, dur, warm := 5, 3*time.Second, 500*time.Millisecond
	if dpQuick() {
		runs, dur = 3, 2*time.Second
	}
	s := section{
		title: title,
		method: fmt.Sprintf("One VPC (%s), two c5.large instances (2 vCPUs each: the whole machine, so no CPU quota binds) in one subnet, "+
			"launched from the Amazon Linux 2023 image. **cloudbox**: the VPC resolver at %s (engines/vpcdns in the daemon, listening in the "+
			"VPC's router namespace) answering two Route 53 private hosted zones associated with the VPC: `%s` with %s A records and `%s` "+
			"with %d (TTL 300, names `r<i>.<zone>`), created with ChangeResourceRecordSets in batches of 1,000. **dnsmasq**: Debian's dnsmasq "+
			"(package dnsmasq-base: the binary alone, no service on the host; the binary and its libraries copied into the second instance "+
			"and run there with their own ld.so) serving the same %s names from an addn-hosts file, `--local=/<zone>/` for both zones "+
			"(authoritative for them, no upstream), `--local-ttl=300`, cache and logging at their defaults. dnsmasq rather than unbound: "+
			"its hosts-file records reloaded on SIGHUP are the nearest thing to records added to a running resolver, and dnsmasq-base "+
			"installs without starting anything on the host. The load generator is this bench binary, copied into the first instance and "+
			"run there (`cloudbox exec`): %d workers, each a connected UDP socket with one question outstanding (closed loop), ask for A "+
			"records of names drawn uniformly from one zone; a question counts when it is answered NOERROR with an A record; 1 s timeout. "+
			"Each run is a %.1f s warm-up then %.0f s measured; %d runs per server and zone, interleaved; the table gives the median run "+
			"(min–max for queries/s) and the median of the runs' p50s and p99s. Before the load every name of both zones was asked once "+
			"of both servers and each answer checked to be exactly the record's address. The paths differ by one hop: the resolver's "+
			"packets cross the instance's veth into the router namespace, dnsmasq's cross it, are forwarded by the router (its security "+
			"group and network ACL chains, conntrack) and cross the peer's veth. Memory: the daemon's VmRSS (all of cloudbox: the API's "+
			"store, the world model and the resolver) and dnsmasq's VmRSS, each 2 s after: nothing loaded; the %s records created "+
			"(cloudbox) or loaded by SIGHUP (dnsmasq); every record asked once; and after the load runs. MB are 10^6 bytes.",
			dpVPC, dnsServerAddr(), r53DNSBig, thousands(r53DNSRecords), r53DNSSmall, r53DNSFew, thousands(r53DNSRecords+r53DNSFew),
			r53DNSClients, warm.Seconds(), dur.Seconds(), runs, thousands(r53DNSRecords)),
	}
	peerBin, err := dnsmasqBinary(ctx, r)
	if err != nil {
		return s, err
	}
	c, err := startDataplane(ctx, r)
	if err != nil {
		return s, err
	}
	res, err := r53DNSMeasure(ctx, c, peerBin, runs, dur, warm)
	if err = errors.Join(err, c.close()); err != nil {
		return s, err
	}
	peer := "dnsmasq " + res.peerVersion
	s.table = table{header: []string{"", "cloudbox VPC resolver", peer + " (in an instance)", "cloudbox / dnsmasq"}}
	var medQPS, medP50, medP99 [2][2]float64 // [zone][server]
	for z, zone := range []struct {
		label string
		runs  [2]r53DNSRuns
	}{{fmt.Sprintf("%d-record zone", r53DNSFew), res.few}, {fmt.Sprintf("%s-record zone", thousands(r53DNSRecords)), res.many}} {
		var qps, p50, p99 [2]string
		for i, ru := range zone.runs {
			medQPS[z][i], medP50[z][i], medP99[z][i] = medianOf(ru.qps), medianOf(ru.p50), medianOf(ru.p99)
			qps[i] = fmt.Sprintf("%s (%s–%s)", thousands(int(medQPS[z][i])), thousands(int(ru.qps[0])), thousands(int(ru.qps[len(ru.qps)-1])))
			p50[i], p99[i] = ms(time.Duration(medP50[z][i])), ms(time.Duration(medP99[z][i]))
		}
		s.table.rows = append(s.table.rows,
			[]string{"queries/s, " + zone.label, qps[0], qps[1], times(medQPS[z][0] / medQPS[z][1])},
			[]string{"p50 latency, " + zone.label, p50[0], p50[1], times(medP50[z][0] / medP50[z][1])},
			[]string{"p99 latency, " + zone.label, p99[0], p99[1], times(medP99[z][0] / medP99[z][1])})
		for i, ru := range zone.runs {
			if ru.errs > 0 || ru.timeouts > 0 {
				s.notes = append(s.notes, fmt.Sprintf("%s, %s: %d errors and %d timeouts in %d answered questions; first: %s",
					[]string{"cloudbox", peer}[i], zone.label, ru.errs, ru.timeouts, ru.queries, ru.firstErr))
			}
		}
	}
	growth := func(i int) int64 { return res.queried[i] - res.before[i] }
	ratio := func(a, b int64) string {
		if b <= 0 {
			return "–"
		}
		return times(float64(a) / float64(b))
	}
	s.table.rows = append(s.table.rows,
		[]string{"VmRSS, no records", mb(res.before[0]), mb(res.before[1]), ratio(res.before[0], res.before[1])},
		[]string{fmt.Sprintf("VmRSS, %s records loaded", thousands(r53DNSRecords)), mb(res.records[0]), mb(res.records[1]), ratio(res.records[0], res.records[1])},
		[]string{"VmRSS, after asking for each once", mb(res.queried[0]), mb(res.queried[1]), ratio(res.queried[0], res.queried[1])},
		[]string{fmt.Sprintf("growth for %s records (after asking minus none)", thousands(r53DNSRecords)), mb(growth(0)), mb(growth(1)), ratio(growth(0), growth(1))},
		[]string{"VmRSS, after the load runs", mb(res.afterLoad[0]), mb(res.afterLoad[1]), ratio(res.afterLoad[0], res.afterLoad[1])},
		[]string{fmt.Sprintf("asking for all %s once (%d at a time)", thousands(r53DNSRecords), r53DNSClients),
			ms(time.Duration(res.sweep[0] * float64(time.Second))), ms(time.Duration(res.sweep[1] * float64(time.Second))), times(res.sweep[0] / res.sweep[1])})
	if res.queried[0] < res.records[0] {
		s.notes = append(s.notes, fmt.Sprintf("The daemon's VmRSS fell from %s to %s between the reading after the batches and the one "+
			"after the questions; idle, 5 s after the first, it read %s. What the batches allocated and freed is given back to the system "+
			"only once later allocations (here the questions') have run the garbage collector, so the growth is taken from the later "+
			"reading.", mb(res.records[0]), mb(res.queried[0]), mb(res.recordsIdle)))
	}
	s.notes = append(s.notes, fmt.Sprintf("New records reach the resolver through the daemon's world sync, not at once: after the last "+
		"ChangeResourceRecordSets returned, the resolver first answered the zone's last record %s later for the %s-record zone (%d tries) "+
		"and %s later for the %d-record one (%d tries, the big zone present). Each try is one run of the load generator through "+
		"`cloudbox exec` (the successful one took %s and %s), 50 ms apart, so these are upper bounds.",
		ms(res.visible[1].after), thousands(r53DNSRecords), res.visible[1].tries, ms(res.visible[0].after), r53DNSFew, res.visible[0].tries,
		ms(res.visible[1].try), ms(res.visible[0].try)))
	s.notes = append(s.notes,
		fmt.Sprintf("With %d records the VPC resolver answers **%s dnsmasq's queries/s** (median %s vs %s), p50 %s vs %s, p99 %s vs %s.",
			r53DNSFew, times(medQPS[0][0]/medQPS[0][1]), thousands(int(medQPS[0][0])), thousands(int(medQPS[0][1])),
			ms(time.Duration(medP50[0][0])), ms(time.Duration(medP50[0][1])), ms(time.Duration(medP99[0][0])), ms(time.Duration(medP99[0][1]))),
		fmt.Sprintf("With %s records it answers **%s dnsmasq's queries/s** (median %s vs %s), p50 %s vs %s, p99 %s vs %s.",
			thousands(r53DNSRecords), times(medQPS[1][0]/medQPS[1][1]), thousands(int(medQPS[1][0])), thousands(int(medQPS[1][1])),
			ms(time.Duration(medP50[1][0])), ms(time.Duration(medP50[1][1])), ms(time.Duration(medP99[1][0])), ms(time.Duration(medP99[1][1]))),
		fmt.Sprintf("%s records grow the daemon by **%s** (%s per record, the API's copy included) and dnsmasq by **%s** (%s per record).",
			thousands(r53DNSRecords), mb(growth(0)), perRecord(growth(0)), mb(growth(1)), perRecord(growth(1))),
		"engines/vpcdns indexes each zone by name once per world snapshot and keeps the values it has parsed, as dnsmasq keeps "+
			"its names in a hash table; its rate with "+fmt.Sprintf("%s records is %s its rate with %d, dnsmasq's %s. ",
			thousands(r53DNSRecords), times(medQPS[1][0]/medQPS[0][0]), r53DNSFew, times(medQPS[1][1]/medQPS[0][1]))+
			"What one answer costs in the daemon alone, packed, is in engines/vpcdns BenchmarkAnswer.",
		"dnsmasq answers from one thread; the daemon's resolver runs on Go's scheduler over both cores. The load generator shares "+
			"the same two cores with whichever server it asks.")
	return s, nil
}

func perRecord(n int64) string { return fmt.Sprintf("%.0f bytes", float64(n)/r53DNSRecords) }

// dnsServerAddr is the VPC resolver's address in the bench's VPC.
func dnsServerAddr() string {
	return desired.DNSServer(netip.MustParsePrefix(dpVPC)).String()
}

// dnsmasqBinary is the host's dnsmasq, installed with apt-get (the
// dnsmasq-base package: no service) when missing.
func dnsmasqBinary(ctx context.Context, r *runner) (string, error) {
	if p, err := exec.LookPath("dnsmasq"); err == nil {
		return p, nil
	}
	r.logf("  installing dnsmasq-base with apt-get")
	cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "dnsmasq-base")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get install dnsmasq-base: %w: %s", err, tail1k(out))
	}
	return exec.LookPath("dnsmasq")
}

func r53DNSMeasure(ctx context.Context, c *dpCloud, peerBin string, runs int, dur, warm time.Duration) (res r53DNSResult, err error) {
	r := c.r
	out, err := exec.CommandContext(ctx, peerBin, "--version").Output()
	if err != nil {
		return res, fmt.Errorf("%s --version: %w", peerBin, err)
	}
	if f := strings.Fields(string(out)); len(f) >= 3 {
		res.peerVersion = f[2]
	}
	// The peer's instance takes DNS from the VPC.
	_, err = untimed(ctx, func(ctx context.Context) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
		return c.ec2.api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(c.group),
			IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("udp"), FromPort: aws.Int32(53), ToPort: aws.Int32(53),
				IpRanges: []ec2types.IpRange{{CidrIp: aws.String(dpVPC)}}}}})
	})
	if err != nil {
		return res, err
	}
	launched, _, err := c.launch(ctx, c.subnetA, ec2types.InstanceTypeC5Large, 2, "")
	if err != nil {
		return res, err
	}
	loadID, peerID := aws.ToString(launched.Instances[0].InstanceId), aws.ToString(launched.Instances[1].InstanceId)
	peerIP := aws.ToString(launched.Instances[1].PrivateIpAddress)
	if _, err := c.waitRunning(ctx, []string{loadID, peerID}, time.Minute); err != nil {
		return res, err
	}
	servers := [2]r53DNSServer{{"cloudbox", dnsServerAddr() + ":53"}, {"dnsmasq", peerIP + ":53"}}

	// The tools: this binary as the load generator, dnsmasq with its libraries.
	self, err := os.Executable()
	if err != nil {
		return res, err
	}
	if err := installFiles(ctx, c, loadID, map[string]string{"dnsload": self}, nil); err != nil {
		return res, err
	}
	peerFiles, err := withLibraries(peerBin)
	if err != nil {
		return res, err
	}
	if err := installFiles(ctx, c, peerID, peerFiles, map[string][]byte{"hosts": nil}); err != nil {
		return res, err
	}
	peerArgs := []string{r53DNSDir + "/lib/ld.so", "--library-path", r53DNSDir + "/lib", r53DNSDir + "/dnsmasq",
		"--conf-file=/dev/null", "--no-resolv", "--no-poll", "--no-hosts", "--addn-hosts=" + r53DNSPeerHost,
		"--listen-address=" + peerIP, "--bind-interfaces", "--port=53", "--user=root", "--group=root",
		"--pid-file=" + r53DNSPeerPID, "--log-facility=/run/cbbench-dnsmasq.log", "--local-ttl=300",
		"--local=/" + r53DNSBig + "/", "--local=/" + r53DNSSmall + "/"}
	if out, err := c.exec(ctx, peerID, peerArgs...).CombinedOutput(); err != nil {
		return res, fmt.Errorf("starting dnsmasq in %s: %w: %s", peerID, err, out)
	}

	load := func(args ...string) (dnsLoadResult, error) {
		var lr dnsLoadResult
		argv := append([]string{r53DNSDir + "/dnsload", dnsLoadArg}, args...)
		cmd := c.exec(ctx, loadID, argv...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return lr, fmt.Errorf("load generator %v: %w: %s", args, err, stderr.String())
		}
		if err := json.Unmarshal(out, &lr); err != nil {
			return lr, fmt.Errorf("load generator %v: %q: %w", args, out, err)
		}
		return lr, nil
	}
	// sweep asks for names from..n-1 of zone once each.
	sweep := func(srv r53DNSServer, zone string, n, from int) (dnsLoadResult, error) {
		lr, err := load("-mode", "sweep", "-server", srv.addr, "-zone", zone, "-n", strconv.Itoa(n), "-from", strconv.Itoa(from),
			"-c", strconv.Itoa(r53DNSClients))
		if err == nil && lr.Queries != n-from {
			err = fmt.Errorf("%s: %d of the %d names of %s answered right (%d wrong, %d timeouts); first: %s",
				srv.name, lr.Queries, n-from, zone, lr.Errors, lr.Timeouts, lr.FirstErr)
		}
		return lr, err
	}
	// waitFor asks srv for the last of n names of zone until it answers
	// it right, and says when that was and how long the last try took.
	waitFor := func(srv r53DNSServer, zone string, n int) (w r53DNSWait, err error) {
		t0 := time.Now()
		for deadline := t0.Add(30 * time.Second); ; {
			w.tries++
			t1 := time.Now()
			_, err := sweep(srv, zone, n, n-1)
			if err == nil {
				w.after, w.try = time.Since(t0), time.Since(t1)
				return w, nil
			}
			if time.Now().After(deadline) {
				return w, fmt.Errorf("after %d tries in %s: %w", w.tries, time.Since(t0).Round(time.Millisecond), err)
			}
			if err := settle(ctx, 50*time.Millisecond); err != nil {
				return w, err
			}
		}
	}
	rss := func() (d, p int64, err error) {
		if err := settle(ctx, 2*time.Second); err != nil {
			return 0, 0, err
		}
		if d, err = c.daemonRSS(); err != nil {
			return 0, 0, err
		}
		p, err = peerRSS(ctx, c, peerID)
		return d, p, err
	}
	// peerLoad writes the hosts file, has dnsmasq reload it, and waits
	// until it answers the last of n names of zone.
	peerHosts := &bytes.Buffer{}
	peerLoad := func(zone string, n int) error {
		for i := range n {
			fmt.Fprintf(peerHosts, "%s %s\n", dnsValue(i), strings.TrimSuffix(dnsName(zone, i), "."))
		}
		cmd := c.exec(ctx, peerID, "sh", "-c", fmt.Sprintf("cat > %[1]s.new && mv %[1]s.new %[1]s && kill -HUP $(cat %[2]s)", r53DNSPeerHost, r53DNSPeerPID))
		cmd.Stdin = bytes.NewReader(peerHosts.Bytes())
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("reloading dnsmasq: %w: %s", err, out)
		}
		_, err := waitFor(servers[1], zone, n)
		return err
	}

	// Memory: nothing, the records, the records asked for.
	r.logf("  memory with %d records", r53DNSRecords)
	if res.before[0], res.before[1], err = rss(); err != nil {
		return res, err
	}
	api := route53.New(route53.Options{
		Region:       ec2Region,
		BaseEndpoint: aws.String(c.p.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{Proxy: nil}}, // loopback only
		Retryer:      aws.NopRetryer{},
	})
	if err := privateZone(ctx, api, c.vpc, r53DNSBig, r53DNSRecords); err != nil {
		return res, err
	}
	if res.visible[1], err = waitFor(servers[0], r53DNSBig, r53DNSRecords); err != nil {
		return res, err
	}
	if err := peerLoad(r53DNSBig, r53DNSRecords); err != nil {
		return res, err
	}
	if res.records[0], res.records[1], err = rss(); err != nil {
		return res, err
	}
	if err := settle(ctx, 5*time.Second); err != nil {
		return res, err
	}
	if res.recordsIdle, err = c.daemonRSS(); err != nil {
		return res, err
	}
	for i, srv := range servers {
		lr, err := sweep(srv, r53DNSBig, r53DNSRecords, 0)
		if err != nil {
			return res, err
		}
		res.sweep[i] = lr.Seconds
	}
	if res.queried[0], res.queried[1], err = rss(); err != nil {
		return res, err
	}

	// Load, on the small zone and the big one.
	if err := privateZone(ctx, api, c.vpc, r53DNSSmall, r53DNSFew); err != nil {
		return res, err
	}
	if res.visible[0], err = waitFor(servers[0], r53DNSSmall, r53DNSFew); err != nil {
		return res, err
	}
	if err := peerLoad(r53DNSSmall, r53DNSFew); err != nil {
		return res, err
	}
	for _, srv := range servers {
		if _, err := sweep(srv, r53DNSSmall, r53DNSFew, 0); err != nil {
			return res, err
		}
	}
	for run := range runs {
		for _, z := range []struct {
			zone string
			n    int
			into *[2]r53DNSRuns
		}{{r53DNSSmall, r53DNSFew, &res.few}, {r53DNSBig, r53DNSRecords, &res.many}} {
			for i, srv := range servers {
				r.logf("  %s, %s (%d/%d)", srv.name, z.zone, run+1, runs)
				lr, err := load("-mode", "load", "-server", srv.addr, "-zone", z.zone, "-n", strconv.Itoa(z.n),
					"-c", strconv.Itoa(r53DNSClients), "-d", dur.String(), "-warmup", warm.String())
				if err != nil {
					return res, err
				}
				ru := &z.into[i]
				ru.qps = append(ru.qps, float64(lr.Queries)/lr.Seconds)
				ru.p50 = append(ru.p50, float64(lr.P50))
				ru.p99 = append(ru.p99, float64(lr.P99))
				ru.queries += lr.Queries
				ru.errs += lr.Errors
				ru.timeouts += lr.Timeouts
				if ru.firstErr == "" {
					ru.firstErr = lr.FirstErr
				}
				if lr.Queries == 0 {
					return res, fmt.Errorf("%s, %s: no question answered (%d errors, %d timeouts); first: %s",
						srv.name, z.zone, lr.Errors, lr.Timeouts, lr.FirstErr)
				}
			}
		}
	}
	res.afterLoad[0], res.afterLoad[1], err = rss()
	return res, err
}

func settle(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// privateZone creates a private hosted zone associated with vpc and n A
// records in it, in batches of r53Batch.
func privateZone(ctx context.Context, api *route53.Client, vpc, name string, n int) error {
	zone, err := untimed(ctx, func(ctx context.Context) (*route53.CreateHostedZoneOutput, error) {
		return api.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(name),
			CallerReference:  aws.String(name + strconv.FormatInt(time.Now().UnixNano(), 10)),
			HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true},
			VPC:              &types.VPC{VPCId: aws.String(vpc), VPCRegion: types.VPCRegion(ec2Region)}})
	})
	if err != nil {
		return err
	}
	for from := 0; from < n; from += r53Batch {
		var changes []types.Change
		for i := from; i < min(n, from+r53Batch); i++ {
			changes = append(changes, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{
				Name: aws.String(dnsName(name, i)), Type: types.RRTypeA, TTL: aws.Int64(300),
				ResourceRecords: []types.ResourceRecord{{Value: aws.String(dnsValue(i).String())}},
			}})
		}
		_, err := untimed(ctx, func(ctx context.Context) (*route53.ChangeResourceRecordSetsOutput, error) {
			return api.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.HostedZone.Id,
				ChangeBatch: &types.ChangeBatch{Changes: changes}})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// peerRSS is dnsmasq's VmRSS in bytes, read inside its instance.
func peerRSS(ctx context.Context, c *dpCloud, id string) (int64, error) {
	out, err := c.exec(ctx, id, "sh", "-c", "cat /proc/$(cat "+r53DNSPeerPID+")/status").Output()
	if err != nil {
		return 0, fmt.Errorf("dnsmasq's status in %s: %w", id, err)
	}
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in dnsmasq's status: %q", out)
}

// withLibraries lists bin and the shared libraries ldd says it loads, as
// files to install: bin under its base name, the libraries under lib/ by
// their sonames, the dynamic loader as lib/ld.so.
func withLibraries(bin string) (map[string]string, error) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w", bin, err)
	}
	files := map[string]string{filepath.Base(bin): bin}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			files["lib/"+f[0]] = f[2]
		case len(f) >= 1 && strings.Contains(f[0], "/ld-linux"):
			files["lib/ld.so"] = f[0]
		}
	}
	if _, ok := files["lib/ld.so"]; !ok {
		return nil, fmt.Errorf("ldd %s: no dynamic loader in %q", bin, out)
	}
	return files, nil
}

// installFiles copies host files (following links) and literal contents
// into r53DNSDir inside an instance, through tar on the exec's stdin.
func installFiles(ctx context.Context, c *dpCloud, id string, files map[string]string, contents map[string][]byte) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, mode int64, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "lib/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
		return err
	}
	for name, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := add(name, 0o755, b); err != nil {
			return err
		}
	}
	for name, b := range contents {
		if err := add(name, 0o644, b); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	cmd := c.exec(ctx, id, "sh", "-c", "mkdir -p "+r53DNSDir+" && tar -x -C "+r53DNSDir)
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("installing into %s: %w: %s", id, err, out)
	}
	return nil
}
