package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The data-plane benches run cloudbox with --dataplane on: instances are
// processes in network namespaces behind one router namespace per VPC. Each
// bench starts a daemon of its own, builds one VPC with the SDK, looks inside
// with `cloudbox exec`, and removes the world with `cloudbox down`.
const (
	dpVPC     = "10.77.0.0/16"
	dpSubnetA = "10.77.1.0/24"
	dpSubnetB = "10.77.2.0/24"
	dpWebPort = 8080
	dpTCPPort = 5001
	// dpPython is the interpreter inside instances (their file system is a
	// copy-on-write view of the host's) and in the baseline namespaces.
	dpPython = "/usr/bin/python3"
)

// dpQuick reports whether -quick was given; the data-plane benches then
// repeat less. (The flag is main's; reading it here keeps these benches
// in files of their own.)
func dpQuick() bool {
	f := flag.Lookup("quick")
	return f != nil && f.Value.String() == "true"
}

// skipped is the section of a data-plane bench that cannot run here.
func skipped(title string, err error) section {
	return section{
		title:  title,
		method: fmt.Sprintf("**Skipped**: the data plane cannot run on this machine (%v). It needs Linux, root, network namespaces, nftables and cgroups.", err),
	}
}

// dpCloud is a running data-plane daemon and the VPC built in it.
type dpCloud struct {
	r        *runner
	p        *proc
	ec2      *ec2Conn
	daemonID string
	dataDir  string // the ephemeral daemon's, where `down` finds its admin token

	ami     string
	vpc     string
	subnetA string
	subnetB string
	group   string // allows dpWebPort and dpTCPPort from the VPC
}

// startDataplane starts `cloudbox up --dataplane on --ephemeral` and builds
// the VPC: two subnets and a security group. On error everything started is
// already removed.
func startDataplane(ctx context.Context, r *runner) (c *dpCloud, err error) {
	c, err = startDataplaneDaemon(ctx, r, "cloudbox (data plane)")
	if err != nil {
		return nil, err
	}
	if err := c.build(ctx); err != nil {
		return nil, errors.Join(err, c.close())
	}
	return c, nil
}

// startDataplaneDaemon starts `cloudbox up --dataplane on --ephemeral`
// with the extra arguments and checks that its data plane is on. On error
// everything started is already removed.
func startDataplaneDaemon(ctx context.Context, r *runner, name string, args ...string) (c *dpCloud, err error) {
	p, err := r.start(ctx, target{name, func(addr string) []string {
		return append([]string{r.cloudbox, "up", "--listen", addr, "--ephemeral", "--dataplane", "on"}, args...)
	}})
	if err != nil {
		return nil, err
	}
	c = &dpCloud{r: r, p: p, ec2: newEC2(p.endpoint)}
	var info struct {
		Dataplane string `json:"dataplane"`
		DaemonID  string `json:"daemon_id"`
		DataDir   string `json:"data_dir"`
	}
	if err := getJSON(p.endpoint+"/_cloudbox/info", &info); err != nil {
		return nil, errors.Join(err, c.close())
	}
	if info.Dataplane != "on" || info.DaemonID == "" {
		err := fmt.Errorf("the daemon's data plane is %q (daemon id %q); log:\n%s", info.Dataplane, info.DaemonID, tail(p.logPath))
		return nil, errors.Join(err, c.close())
	}
	c.daemonID, c.dataDir = info.DaemonID, info.DataDir
	return c, nil
}

func (c *dpCloud) build(ctx context.Context) error {
	api := c.ec2.api
	var err error
	if c.ami, err = c.ec2.findAMI(ctx); err != nil {
		return err
	}
	vpc, err := untimed(ctx, func(ctx context.Context) (*ec2.CreateVpcOutput, error) {
		return api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(dpVPC)})
	})
	if err != nil {
		return err
	}
	c.vpc = aws.ToString(vpc.Vpc.VpcId)
	for _, s := range []struct {
		cidr string
		id   *string
	}{{dpSubnetA, &c.subnetA}, {dpSubnetB, &c.subnetB}} {
		out, err := untimed(ctx, func(ctx context.Context) (*ec2.CreateSubnetOutput, error) {
			return api.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(c.vpc), CidrBlock: aws.String(s.cidr)})
		})
		if err != nil {
			return err
		}
		*s.id = aws.ToString(out.Subnet.SubnetId)
	}
	sg, err := untimed(ctx, func(ctx context.Context) (*ec2.CreateSecurityGroupOutput, error) {
		return api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String("bench"), Description: aws.String("bench"), VpcId: aws.String(c.vpc)})
	})
	if err != nil {
		return err
	}
	c.group = aws.ToString(sg.GroupId)
	var perms []types.IpPermission
	for _, port := range []int32{dpWebPort, dpTCPPort} {
		perms = append(perms, types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
			IpRanges: []types.IpRange{{CidrIp: aws.String(dpVPC)}}})
	}
	_, err = untimed(ctx, func(ctx context.Context) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
		return api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(c.group), IpPermissions: perms})
	})
	return err
}

// close removes the world through the endpoint (`cloudbox down`), stops the
// daemon by PID, and checks that no namespace or cgroup of it is left.
func (c *dpCloud) close() error {
	c.ec2.close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, downErr := exec.CommandContext(ctx, c.r.cloudbox, "down", "--endpoint", c.p.endpoint, "--data-dir", c.dataDir).CombinedOutput()
	if downErr != nil {
		downErr = fmt.Errorf("cloudbox down: %w: %s", downErr, strings.TrimSpace(string(out)))
	}
	c.p.stop()
	if c.daemonID == "" {
		return downErr
	}
	var left []string
	ns, _ := filepath.Glob("/run/netns/cb-" + c.daemonID + "-*")
	left = append(left, ns...)
	for _, dir := range memCgroupDirs(c.daemonID, "") {
		if ents, err := os.ReadDir(dir); err == nil {
			for _, e := range ents {
				if e.IsDir() {
					left = append(left, filepath.Join(dir, e.Name()))
				}
			}
		}
	}
	if len(left) > 0 {
		return errors.Join(downErr, fmt.Errorf("left after cloudbox down: %s", strings.Join(left, " ")))
	}
	return downErr
}

// launch is one RunInstances call of n instances into subnet, timed from
// before the call until it returns.
func (c *dpCloud) launch(ctx context.Context, subnet string, itype types.InstanceType, n int, userData string) (*ec2.RunInstancesOutput, time.Duration, error) {
	in := &ec2.RunInstancesInput{
		ImageId:          aws.String(c.ami),
		InstanceType:     itype,
		MinCount:         aws.Int32(int32(n)),
		MaxCount:         aws.Int32(int32(n)),
		SubnetId:         aws.String(subnet),
		SecurityGroupIds: []string{c.group},
	}
	if userData != "" {
		in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(userData)))
	}
	t0 := time.Now()
	out, err := untimed(ctx, func(ctx context.Context) (*ec2.RunInstancesOutput, error) { return c.ec2.api.RunInstances(ctx, in) })
	took := time.Since(t0)
	if err != nil {
		return nil, took, err
	}
	if len(out.Instances) != n {
		return nil, took, fmt.Errorf("RunInstances of %d: %d instances in the answer", n, len(out.Instances))
	}
	return out, took, nil
}

// waitRunning polls DescribeInstances every 20 ms until every one of ids is
// running, and returns when each was first seen running.
func (c *dpCloud) waitRunning(ctx context.Context, ids []string, within time.Duration) (map[string]time.Time, error) {
	seen := map[string]time.Time{}
	deadline := time.Now().Add(within)
	for {
		out, err := untimed(ctx, func(ctx context.Context) (*ec2.DescribeInstancesOutput, error) {
			return c.ec2.api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
		})
		now := time.Now()
		if err != nil {
			return seen, err
		}
		for _, res := range out.Reservations {
			for _, inst := range res.Instances {
				id := aws.ToString(inst.InstanceId)
				if _, ok := seen[id]; !ok && inst.State != nil && inst.State.Name == types.InstanceStateNameRunning {
					seen[id] = now
				}
			}
		}
		if len(seen) == len(ids) {
			return seen, nil
		}
		if now.After(deadline) {
			return seen, fmt.Errorf("%d of %d instances running after %s", len(seen), len(ids), within)
		}
		select {
		case <-ctx.Done():
			return seen, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// console is an instance's console output, for error messages.
func (c *dpCloud) console(ctx context.Context, id string) string {
	out, err := untimed(ctx, func(ctx context.Context) (*ec2.GetConsoleOutputOutput, error) {
		return c.ec2.api.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
	})
	if err != nil {
		return err.Error()
	}
	b, err := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	if err != nil {
		return aws.ToString(out.Output)
	}
	return string(b)
}

// exec is `cloudbox exec <where> -- argv...` against this daemon.
func (c *dpCloud) exec(ctx context.Context, where string, argv ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.r.cloudbox, append([]string{"exec", "--endpoint", c.p.endpoint, where, "--"}, argv...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// daemonRSS is the VmRSS of the daemon process alone, in bytes (instances
// run in sessions of their own, so they are not in its process group).
func (c *dpCloud) daemonRSS() (int64, error) {
	kb, err := vmRSS(c.p.pid)
	return kb * 1024, err
}

func getJSON(url string, v any) error {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// memCgroupDirs are the directories where an instance's memory cgroup can
// be (dataplane/compute: cloudbox/<daemon>/<instance> at the root of the
// v1 memory hierarchy or of the v2 unified one), or the daemon's own
// directory when id is "".
func memCgroupDirs(daemonID, id string) []string {
	var out []string
	for _, root := range []string{"/sys/fs/cgroup/memory", "/sys/fs/cgroup"} {
		out = append(out, filepath.Join(root, "cloudbox", daemonID, id))
	}
	return out
}

// medianOf returns the median (lower middle) of v, which it sorts.
func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

// onDataplane runs measure on a fresh data-plane daemon, which it removes
// afterwards whatever measure returned.
func onDataplane(ctx context.Context, r *runner, measure func(c *dpCloud) error) error {
	c, err := startDataplaneDaemon(ctx, r, "cloudbox (data plane)")
	if err != nil {
		return err
	}
	return errors.Join(measure(c), c.close())
}
