package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The IAM bench measures what enforcement costs a caller: the same signed
// calls by a user whose group carries 20 policies, against a server that
// evaluates them and one that does not.
const (
	iamPolicies   = 20 // customer managed, 10 on the user and 10 on its group
	iamRounds     = 20 // interleaved rounds over the servers
	iamPerRound   = 50 // timed calls of each kind per server per round
	iamGoalAdded  = 50 * time.Microsecond
	iamInstances  = 10
	iamObjectSize = 1024
)

// iamServer is one server of the comparison and how it enforces.
type iamServer struct {
	name    string
	args    func(r *runner, addr string) []string
	enforce bool
	moto    bool
}

var iamServers = []iamServer{
	{name: "cloudbox --iam off", args: func(r *runner, addr string) []string {
		return []string{r.cloudbox, "up", "--listen", addr, "--ephemeral", "--dataplane", "off", "--iam", "off"}
	}},
	{name: "cloudbox --iam enforce", enforce: true, args: func(r *runner, addr string) []string {
		return []string{r.cloudbox, "up", "--listen", addr, "--ephemeral", "--dataplane", "off", "--iam", "enforce"}
	}},
	{name: "moto", moto: true, args: motoArgs},
	// moto enforces IAM once told through its /moto-api/reset-auth.
	{name: "moto, auth on", moto: true, enforce: true, args: motoArgs},
}

func motoArgs(r *runner, addr string) []string {
	host, port, _ := strings.Cut(addr, ":")
	return []string{r.moto, "-H", host, "-p", port}
}

// iamPolicyDoc is the i-th of the user's policies: like a managed policy,
// several statements with wildcards, ARN patterns and conditions. The last
// one allows the timed calls, so every decision reads all of them.
func iamPolicyDoc(i int) string {
	services := []string{"rds", "dynamodb", "sqs", "sns", "lambda", "logs", "cloudwatch", "kms", "ssm",
		"elasticloadbalancing", "autoscaling", "route53", "acm", "secretsmanager", "ecr", "ecs", "events", "sts", "glue"}
	if i == iamPolicies-1 {
		return `{"Version":"2012-10-17","Statement":[
			{"Sid":"Describe","Effect":"Allow","Action":["ec2:Describe*"],"Resource":"*"},
			{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::bench/*"}]}`
	}
	svc := services[i%len(services)]
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		{"Sid":"Read%[1]d","Effect":"Allow","Action":["%[2]s:Describe*","%[2]s:Get*","%[2]s:List*"],"Resource":"*"},
		{"Sid":"Write%[1]d","Effect":"Allow","Action":["%[2]s:Create*","%[2]s:Delete*","%[2]s:Update*"],
		 "Resource":"arn:aws:%[2]s:*:*:team-%[1]d/*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}},
		{"Sid":"Tagged%[1]d","Effect":"Allow","Action":"%[2]s:*","Resource":"*",
		 "Condition":{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}},
		{"Sid":"DenyOther%[1]d","Effect":"Deny","Action":"%[2]s:Delete*","Resource":"*",
		 "Condition":{"StringNotEquals":{"aws:PrincipalAccount":"123456789012"}}}]}`, i, svc)
}

// iamConn is a started server with the user's clients.
type iamConn struct {
	srv  iamServer
	p    *proc
	ec2  *ec2.Client
	s3   *s3.Client
	ec2T []time.Duration
	s3T  []time.Duration
}

func benchIAMAuthz(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: "IAM enforcement: authorization cost per call",
		method: fmt.Sprintf("Each server is started once, empty. Untimed set-up as the account's root: %d instances "+
			"(RunInstances), a bucket with one %d-byte object, a user with %d customer managed policies, %d "+
			"attached to the user and %d to its group (IAM's limits), each with four statements: wildcards, ARN patterns, "+
			"conditions, a policy variable and a conditional Deny; only the last allows the timed calls, so every "+
			"decision reads all of them), and an access key for the user. Then, as the user, with aws-sdk-go-v2 "+
			"(retries off, one connection), %d rounds interleaved over the servers, each round %d DescribeInstances "+
			"and %d GetObject (body read) per server, each call timed alone. The added cost is the enforcing server's "+
			"percentile minus the same server's without enforcement. moto enforces IAM once its /moto-api/reset-auth "+
			"is set after the set-up. The evaluator alone is timed with `go test -bench Evaluate ./policy` (20 "+
			"attached policies, the allowing statement last).",
			iamInstances, iamObjectSize, iamPolicies, iamPolicies/2, iamPolicies/2, iamRounds, iamPerRound, iamPerRound),
		table: table{header: []string{"Server", "DescribeInstances p50", "p99", "GetObject p50", "p99", "Calls"}},
	}
	conns := make([]*iamConn, len(iamServers))
	for i, srv := range iamServers {
		t := target{name: srv.name, args: func(addr string) []string { return srv.args(r, addr) }}
		p, err := r.start(ctx, t)
		if err != nil {
			return s, err
		}
		defer p.stop()
		c := &iamConn{srv: srv, p: p}
		if err := c.setup(ctx); err != nil {
			return s, fmt.Errorf("%s: set-up: %w", srv.name, err)
		}
		conns[i] = c
	}
	for round := range iamRounds {
		if round%5 == 0 {
			r.logf("  round %d/%d", round+1, iamRounds)
		}
		for _, c := range conns {
			if err := c.round(ctx); err != nil {
				return s, fmt.Errorf("%s: %w", c.srv.name, err)
			}
		}
	}
	type pcts struct{ ec2p50, ec2p99, s3p50, s3p99 time.Duration }
	res := make([]pcts, len(conns))
	for i, c := range conns {
		slices.Sort(c.ec2T)
		slices.Sort(c.s3T)
		res[i] = pcts{percentile(c.ec2T, 50), percentile(c.ec2T, 99), percentile(c.s3T, 50), percentile(c.s3T, 99)}
		s.table.rows = append(s.table.rows, []string{c.srv.name, usec(res[i].ec2p50), usec(res[i].ec2p99),
			usec(res[i].s3p50), usec(res[i].s3p99), strconv.Itoa(len(c.ec2T) + len(c.s3T))})
	}
	// Rows 0/1 are cloudbox off/enforce, 2/3 moto off/on.
	cbEC2, cbS3 := res[1].ec2p50-res[0].ec2p50, res[1].s3p50-res[0].s3p50
	motoEC2, motoS3 := res[3].ec2p50-res[2].ec2p50, res[3].s3p50-res[2].s3p50
	s.notes = append(s.notes,
		fmt.Sprintf("Enforcement adds %s (p50) and %s (p99) to DescribeInstances and %s (p50) and %s (p99) to GetObject on cloudbox; "+
			"on moto it adds %s and %s (p50).",
			usec(cbEC2), usec(res[1].ec2p99-res[0].ec2p99), usec(cbS3), usec(res[1].s3p99-res[0].s3p99), usec(motoEC2), usec(motoS3)),
		fmt.Sprintf("With enforcement on, cloudbox answers DescribeInstances **%s** and GetObject **%s** than moto with its auth on (p50).",
			faster(speedup(res[3].ec2p50, res[1].ec2p50)), faster(speedup(res[3].s3p50, res[1].s3p50))))
	worst := max(cbEC2, cbS3)
	s.goals = append(s.goals, goal{
		name:   "IAM enforcement added p50 per call",
		target: "< " + usec(iamGoalAdded),
		result: fmt.Sprintf("%s DescribeInstances, %s GetObject", usec(cbEC2), usec(cbS3)),
		met:    worst < iamGoalAdded,
	})
	ns, err := evaluatorNsPerOp(ctx)
	if err != nil {
		s.notes = append(s.notes, "The evaluator benchmark failed: "+err.Error())
		return s, nil
	}
	s.notes = append(s.notes, fmt.Sprintf("The evaluator alone decides for a principal with 20 attached policies in %.2f µs of CPU: %.0f decisions/s on one core.",
		ns/1e3, 1e9/ns))
	return s, nil
}

var nsPerOpRE = regexp.MustCompile(`^BenchmarkEvaluate\S*\s+\d+\s+([0-9.]+) ns/op`)

// evaluatorNsPerOp runs the policy package's BenchmarkEvaluate.
func evaluatorNsPerOp(ctx context.Context) (float64, error) {
	root, err := moduleRoot()
	if err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkEvaluate$", "-benchtime", "2s", "./policy")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%w: %s", err, tail(string(out)))
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := nsPerOpRE.FindStringSubmatch(sc.Text()); m != nil {
			return strconv.ParseFloat(m[1], 64)
		}
	}
	return 0, errors.New("no BenchmarkEvaluate line in: " + string(out))
}

// loopback is an HTTP client that never goes through a proxy and keeps one
// connection, so every timed call reuses it.
func loopback() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1, DisableCompression: true}}
}

// setup creates the world as root and the user's clients.
func (c *iamConn) setup(ctx context.Context) error {
	root := credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, "")
	hc := loopback()
	iamc := iam.New(iam.Options{Region: ec2Region, BaseEndpoint: aws.String(c.p.endpoint), Credentials: root, HTTPClient: hc, Retryer: aws.NopRetryer{}})
	e := newEC2(c.p.endpoint)
	defer e.close()
	ami, err := e.findAMI(ctx)
	if err != nil {
		return err
	}
	if _, err := e.api.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t3.micro",
		MinCount: aws.Int32(iamInstances), MaxCount: aws.Int32(iamInstances)}); err != nil {
		return err
	}
	rootS3 := s3.New(s3.Options{Region: ec2Region, BaseEndpoint: aws.String(c.p.endpoint), Credentials: root, HTTPClient: hc, UsePathStyle: true, Retryer: aws.NopRetryer{}})
	if _, err := rootS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		return err
	}
	if _, err := rootS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("obj"),
		Body: bytes.NewReader(bytes.Repeat([]byte("x"), iamObjectSize))}); err != nil {
		return err
	}
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		return err
	}
	if _, err := iamc.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("team")}); err != nil {
		return err
	}
	if _, err := iamc.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("team"), UserName: aws.String("alice")}); err != nil {
		return err
	}
	for i := range iamPolicies {
		out, err := iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%02d", i)), PolicyDocument: aws.String(iamPolicyDoc(i))})
		if err != nil {
			return err
		}
		// IAM attaches at most 10 managed policies to a user or a group.
		if i%2 == 1 {
			_, err = iamc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: out.Policy.Arn})
		} else {
			_, err = iamc.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("team"), PolicyArn: out.Policy.Arn})
		}
		if err != nil {
			return err
		}
	}
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		return err
	}
	if c.srv.moto && c.srv.enforce {
		if err := motoAuth(ctx, c.p.endpoint); err != nil {
			return err
		}
	}
	alice := credentials.NewStaticCredentialsProvider(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")
	c.ec2 = ec2.New(ec2.Options{Region: ec2Region, BaseEndpoint: aws.String(c.p.endpoint), Credentials: alice, HTTPClient: &wireClient{http: loopback()}, Retryer: aws.NopRetryer{}})
	c.s3 = s3.New(s3.Options{Region: ec2Region, BaseEndpoint: aws.String(c.p.endpoint), Credentials: alice, HTTPClient: &wireClient{http: loopback()}, UsePathStyle: true, Retryer: aws.NopRetryer{}})
	// The user can do what the bench times, and, where IAM is enforced,
	// not what nothing allows.
	if _, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		return fmt.Errorf("alice DescribeInstances: %w", err)
	}
	_, err = c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("denied"), Body: strings.NewReader("x")})
	if c.srv.enforce && err == nil {
		return errors.New("alice PutObject was allowed: IAM is not enforced")
	}
	if !c.srv.enforce && err != nil {
		return fmt.Errorf("alice PutObject without enforcement: %w", err)
	}
	return nil
}

// motoAuth turns moto's IAM enforcement on from the next request.
func motoAuth(ctx context.Context, endpoint string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/moto-api/reset-auth", strings.NewReader("0"))
	if err != nil {
		return err
	}
	resp, err := loopback().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset-auth: %s", resp.Status)
	}
	return nil
}

// round times iamPerRound calls of each kind.
func (c *iamConn) round(ctx context.Context) error {
	// The server may have closed the idle connection while the others
	// ran: one untimed call opens a fresh one, and a second one must work.
	if _, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	}
	for range iamPerRound {
		t0 := time.Now()
		out, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err != nil {
			return fmt.Errorf("DescribeInstances: %w", err)
		}
		c.ec2T = append(c.ec2T, time.Since(t0))
		n := 0
		for _, res := range out.Reservations {
			n += len(res.Instances)
		}
		if n != iamInstances {
			return fmt.Errorf("DescribeInstances: %d instances, want %d", n, iamInstances)
		}
	}
	for range iamPerRound {
		t0 := time.Now()
		out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("obj")})
		if err != nil {
			return fmt.Errorf("GetObject: %w", err)
		}
		n, err := io.Copy(io.Discard, out.Body)
		out.Body.Close()
		if err != nil {
			return err
		}
		c.s3T = append(c.s3T, time.Since(t0))
		if n != iamObjectSize {
			return fmt.Errorf("GetObject: %d bytes, want %d", n, iamObjectSize)
		}
	}
	return nil
}
