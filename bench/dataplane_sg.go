package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudbox/cloudbox/controllers"
)

// dpGatedPort is the web server port of the security group bench: the
// bench's group does not allow it until the measured rule does.
const dpGatedPort = 8081

// benchDataplaneSG times one security group rule from the API call to the
// first packet it lets through: what a user waits for after
// authorize-security-group-ingress.
func benchDataplaneSG(ctx context.Context, r *runner) (section, error) {
	const title = "Data plane: one security group rule to traffic"
	if err := controllers.Check(); err != nil {
		return skipped(title, err), nil
	}
	rounds := 10
	if dpQuick() {
		rounds = 3
	}
	s := section{
		title: title,
		method: fmt.Sprintf("cloudbox runs with `--dataplane on --ephemeral`; the VPC of the launch bench, a probe instance (c5.large) and a web "+
			"server (t2.micro, `python3 -m http.server %d`) in the other subnet, in a security group that does not allow port %d. Each round "+
			"starts the launch bench's prober in the probe (polling the web server about every 13 ms: a connect the group still drops is "+
			"given up after 3 ms), then calls "+
			"AuthorizeSecurityGroupIngress for TCP %d from the VPC (aws-sdk-go-v2) and times from the start of the call to the prober's first "+
			"200; then revokes the rule and waits until a connection from the probe fails again. %d rounds; percentiles are nearest-rank.",
			dpGatedPort, dpGatedPort, dpGatedPort, rounds),
		table: table{header: []string{"Rounds", "API call (p50)", "call to first answer (p50)", "p90", "min", "max"}},
	}
	c, err := startDataplane(ctx, r)
	if err != nil {
		return s, err
	}
	api, applied, err := sgRounds(ctx, c, rounds)
	if cerr := c.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s, err
	}
	a := sorted(applied)
	s.table.rows = append(s.table.rows, []string{strconv.Itoa(rounds), ms(percentile(sorted(api), 50)), ms(percentile(a, 50)),
		ms(percentile(a, 90)), ms(percentile(a, 0)), ms(percentile(a, 100))})
	s.notes = append(s.notes, fmt.Sprintf("A one-rule security group change lets traffic through **%s** (p50) after the API call starts.", ms(percentile(a, 50))))
	return s, nil
}

func sgRounds(ctx context.Context, c *dpCloud, rounds int) (api, applied []time.Duration, err error) {
	out, _, err := c.launch(ctx, c.subnetA, types.InstanceTypeC5Large, 1, "")
	if err != nil {
		return nil, nil, err
	}
	probe := aws.ToString(out.Instances[0].InstanceId)
	out, _, err = c.launch(ctx, c.subnetB, types.InstanceTypeT2Micro, 1, fmt.Sprintf("#!/bin/sh\nnohup python3 -m http.server %d >/dev/null 2>&1 &\n", dpGatedPort))
	if err != nil {
		return nil, nil, err
	}
	web, webIP := aws.ToString(out.Instances[0].InstanceId), aws.ToString(out.Instances[0].PrivateIpAddress)
	if _, err := c.waitRunning(ctx, []string{probe, web}, 30*time.Second); err != nil {
		return nil, nil, err
	}
	// The server listens (seen from inside the web server itself) before
	// any rule lets the probe in.
	if err := c.untilExit(ctx, web, 0, fmt.Sprintf("import socket; socket.create_connection(('127.0.0.1', %d), 0.2)", dpGatedPort)); err != nil {
		return nil, nil, err
	}
	perm := []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(dpGatedPort), ToPort: aws.Int32(dpGatedPort),
		IpRanges: []types.IpRange{{CidrIp: aws.String(dpVPC)}}}}
	blocked := fmt.Sprintf("import socket; socket.create_connection((%q, %d), 0.2)", webIP, dpGatedPort)
	for i := range rounds {
		c.r.logf("  rule %d/%d", i+1, rounds)
		call, first, err := c.firstAnswer(ctx, probe, webIP, func() error {
			_, err := c.ec2.api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(c.group), IpPermissions: perm})
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		api, applied = append(api, call), append(applied, first)
		if _, err := c.ec2.api.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(c.group), IpPermissions: perm}); err != nil {
			return nil, nil, err
		}
		if err := c.untilExit(ctx, probe, 1, blocked); err != nil {
			return nil, nil, err
		}
	}
	return api, applied, nil
}

// firstAnswer starts the prober in probe for ip, runs change, and returns
// how long change took and the time from its start to the first 200.
func (c *dpCloud) firstAnswer(ctx context.Context, probe, ip string, change func() error) (call, first time.Duration, err error) {
	const within = 30 * time.Second
	ctx, cancel := context.WithTimeout(ctx, within+30*time.Second)
	defer cancel()
	// A connect the group still drops is given up after 3 ms, so the
	// first one after the rule is in place is at most ~13 ms later.
	cmd := c.exec(ctx, probe, dpPython, "-c", proberScript, strconv.Itoa(dpGatedPort), strconv.Itoa(int(within.Seconds())), "0.003")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 0, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer cmd.Wait()
	defer stdin.Close()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		return 0, 0, fmt.Errorf("prober in %s did not start: %q", probe, lines.Text())
	}
	t0 := time.Now()
	if err := change(); err != nil {
		cmd.Process.Kill()
		return 0, 0, err
	}
	call = time.Since(t0)
	io.WriteString(stdin, ip+"\n")
	stdin.Close()
	if !lines.Scan() {
		return 0, 0, fmt.Errorf("prober: no answer")
	}
	got, val, _ := strings.Cut(lines.Text(), " ")
	ns, err := strconv.ParseInt(val, 10, 64)
	if got != ip || err != nil {
		return 0, 0, fmt.Errorf("prober: %q", lines.Text())
	}
	return call, time.Unix(0, ns).Sub(t0), nil
}

// untilExit runs a Python snippet in an instance every 50 ms until it exits
// with code (0: it succeeded; 1: it raised), for at most 20 s.
func (c *dpCloud) untilExit(ctx context.Context, where string, code int, snippet string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := c.exec(ctx, where, dpPython, "-c", snippet).Run()
		got := 0
		if err != nil {
			got = -1
			if ee, ok := err.(interface{ ExitCode() int }); ok {
				got = ee.ExitCode()
			}
		}
		if got == code {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s in %s: exit %d, want %d", snippet, where, got, code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
