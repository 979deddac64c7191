package daemon_test

// A service registered through the public registration alone: this file is
// the whole of it (its package would be the same, plus one import line in
// daemon/services.go). It serves an API of its own over the daemon's
// front door, keeps its records in the daemon's store, publishes an event
// on the bus, runs a loop while the daemon serves, and uses another
// service it requires (STS) through that service's API. With a data plane
// it lives in a VPC as RDS and ElastiCache will: a requester-managed
// interface in a subnet with security groups, a managed compute slot
// behind it whose state comes back as reports, and a DNS name in the
// VPC's resolver.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	stsapi "github.com/cloudbox/cloudbox/api/sts"
	"github.com/cloudbox/cloudbox/controllers"
	"github.com/cloudbox/cloudbox/daemon"
	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/registry"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

type putNoteInput struct {
	Text *string `type:"string" required:"true"`
}

type putNoteOutput struct {
	Id    *string `type:"string"`
	Owner *string `type:"string"`
}

type startWorkerInput struct {
	SubnetId *string `type:"string" required:"true"`
	GroupId  *string `type:"string" required:"true"`
}

type workerOutput struct {
	State *string `type:"string"`
	Ip    *string `type:"string"`
	Eni   *string `type:"string"`
}

type describeWorkerInput struct{}

type listNotesInput struct{}

type listNotesOutput struct {
	Notes []*string `type:"list"`
	Ticks *int64    `type:"integer"`
}

var notesAPI = &api.Service{
	Package: "notes", ServiceID: "Notes", EndpointPrefix: "notes", SigningName: "notes",
	Protocol: "json", APIVersion: "2026-12-07", TargetPrefix: "Notes_20261207", JSONVersion: "1.1",
	Operations: map[string]*api.Operation{
		"PutNote":        {Name: "PutNote", Method: "POST", RequestURI: "/", ResponseCode: 200, NewInput: func() any { return new(putNoteInput) }, NewOutput: func() any { return new(putNoteOutput) }},
		"ListNotes":      {Name: "ListNotes", Method: "POST", RequestURI: "/", ResponseCode: 200, NewInput: func() any { return new(listNotesInput) }, NewOutput: func() any { return new(listNotesOutput) }},
		"StartWorker":    {Name: "StartWorker", Method: "POST", RequestURI: "/", ResponseCode: 200, NewInput: func() any { return new(startWorkerInput) }, NewOutput: func() any { return new(workerOutput) }},
		"DescribeWorker": {Name: "DescribeWorker", Method: "POST", RequestURI: "/", ResponseCode: 200, NewInput: func() any { return new(describeWorkerInput) }, NewOutput: func() any { return new(workerOutput) }},
	},
}

type notes struct {
	env   *registry.Env
	sts   api.Invoker
	ticks chan struct{}
}

func init() {
	registry.Register(registry.Registration{
		Name: "notes", API: notesAPI, Requires: []string{"sts"},
		New: func(env *registry.Env) (registry.Service, error) {
			return &notes{env: env, sts: env.Service("sts").Invoker(), ticks: make(chan struct{}, 1)}, nil
		},
	})
}

func (n *notes) Invoker() api.Invoker { return n }

func (n *notes) Implemented() []string {
	return []string{"DescribeWorker", "ListNotes", "PutNote", "StartWorker"}
}

// worker is the service's one compute node, per account and region.
type worker struct {
	ENI, IP, VPC, State string
}

func workerKey(account, region string) store.Key {
	return store.Key{Account: account, Region: region, Kind: "notes:worker", ID: "w1"}
}

// The worker's script: a web server, as an engine's would start.
const workerScript = "#!/bin/sh\nnohup python3 -m http.server 8080 >/dev/null 2>&1 &\n"

// Follows, Scopes and Contribute declare the worker's slot and name.
func (n *notes) Follows(kind string) bool { return strings.HasPrefix(kind, "notes:") }

func (n *notes) Scopes(tx *store.Tx) ([]desired.Scope, error) {
	pairs, err := tx.Scopes("notes:worker")
	return desired.ScopesOf(pairs), err
}

func (n *notes) Contribute(tx *store.Tx, sc desired.Scope, w *desired.World) error {
	var wk worker
	ok, err := tx.Get(workerKey(sc.Account, sc.Region), &wk)
	if err != nil || !ok {
		return err
	}
	w.Slots = append(w.Slots, &desired.Slot{ID: "notes-w1", Account: sc.Account, Region: sc.Region, Owner: "notes",
		ENI: wk.ENI, VCPUs: 1, MemoryMiB: 128, Script: []byte(workerScript), Running: true})
	w.Names = append(w.Names, &desired.Name{Name: "worker.notes.internal", VPCs: []string{wk.VPC}, Addrs: []netip.Addr{netip.MustParseAddr(wk.IP)}})
	return nil
}

// ReportSlot takes the data plane's word on the worker.
func (n *notes) ReportSlot(account, region, id, state, reason string) error {
	return n.env.Store.Update(func(tx *store.Tx) error {
		var wk worker
		if ok, err := tx.Get(workerKey(account, region), &wk); err != nil || !ok {
			return err
		}
		wk.State = state
		return tx.Put(workerKey(account, region), wk)
	})
}

func (n *notes) Invoke(ctx context.Context, op string, in any) (any, error) {
	req := api.RequestFrom(ctx)
	switch op {
	case "PutNote":
		who, err := n.sts.Invoke(ctx, "GetCallerIdentity", &stsapi.GetCallerIdentityRequest{})
		if err != nil {
			return nil, err
		}
		owner := *who.(*stsapi.GetCallerIdentityResponse).Arn
		text := *in.(*putNoteInput).Text
		var id string
		err = n.env.Store.Update(func(tx *store.Tx) error {
			seq, err := tx.NextID(req.Caller.Account, req.Region, "notes:note")
			if err != nil {
				return err
			}
			id = fmt.Sprintf("note-%04d", seq)
			return tx.Put(store.Key{Account: req.Caller.Account, Region: req.Region, Kind: "notes:note", ID: id}, text)
		})
		if err != nil {
			return nil, err
		}
		n.env.Events.Publish(events.Event{Source: "cloudbox.notes", DetailType: "Note Created", Account: req.Caller.Account, Region: req.Region,
			Time: n.env.Clock.Now(), Resources: []string{id}, Detail: map[string]string{"text": text}})
		return &putNoteOutput{Id: &id, Owner: &owner}, nil
	case "StartWorker":
		in := in.(*startWorkerInput)
		wk := worker{State: "starting"}
		err := n.env.Store.Update(func(tx *store.Tx) error {
			sn, ok, err := ec2.LookupSubnet(tx, req.Caller.Account, req.Region, *in.SubnetId)
			if err != nil || !ok {
				return api.Errorf("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", *in.SubnetId)
			}
			eni, err := ec2.CreateServiceENI(tx, req.Caller.Account, req.Region, ec2.ServiceENISpec{Subnet: sn.ID, Groups: []string{*in.GroupId},
				Description: "notes worker", InterfaceType: "interface", Owner: "notes"})
			if err != nil {
				return err
			}
			wk.ENI, wk.IP, wk.VPC = eni.ID, eni.PrivateIP.String(), sn.VPC
			return tx.Put(workerKey(req.Caller.Account, req.Region), wk)
		})
		if err != nil {
			return nil, err
		}
		return &workerOutput{State: &wk.State, Ip: &wk.IP, Eni: &wk.ENI}, nil
	case "DescribeWorker":
		var wk worker
		err := n.env.Store.View(func(tx *store.Tx) error {
			_, err := tx.Get(workerKey(req.Caller.Account, req.Region), &wk)
			return err
		})
		return &workerOutput{State: &wk.State, Ip: &wk.IP, Eni: &wk.ENI}, err
	case "ListNotes":
		out := &listNotesOutput{Ticks: aws.Int64(int64(len(n.ticks)))}
		err := n.env.Store.View(func(tx *store.Tx) error {
			return tx.List(req.Caller.Account, req.Region, "notes:note", func(_ string, raw []byte) error {
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					return err
				}
				out.Notes = append(out.Notes, &s)
				return nil
			})
		})
		return out, err
	}
	return nil, api.NotImplemented("Notes", op)
}

// Run marks that the daemon runs the service's loop.
func (n *notes) Run(ctx context.Context) {
	n.ticks <- struct{}{}
	<-ctx.Done()
}

func TestMain(m *testing.M) {
	compute.InitMain() // the notes worker's init is this test binary
	os.Exit(m.Run())
}

// serve runs a daemon on a loopback port until the test ends.
func serve(t *testing.T, cfg daemon.Config) (*daemon.Daemon, string) {
	t.Helper()
	d, err := daemon.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return d, "http://" + ln.Addr().String()
}

// notesCall sends a signed call to the notes API.
func notesCall(t *testing.T, endpoint, op, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", endpoint+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Notes_20261207."+op)
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: "123456789012", SecretAccessKey: "test"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "notes", "eu-west-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %d %s", op, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

func TestRegisteredService(t *testing.T) {
	_, endpoint := serve(t, daemon.Config{Ephemeral: true})
	call := func(op, body string) (int, map[string]any) {
		t.Helper()
		return notesCall(t, endpoint, op, body)
	}

	status, out := call("PutNote", `{"Text":"hello"}`)
	if status != 200 || out["Id"] != "note-0001" || out["Owner"] != "arn:aws:iam::123456789012:root" {
		t.Fatalf("PutNote: %d %v", status, out)
	}
	// The model's validation runs before the handler, in the protocol's words.
	if status, out := call("PutNote", `{}`); status != 400 || !strings.Contains(out["__type"].(string), "ValidationException") {
		t.Fatalf("PutNote without Text: %d %v", status, out)
	}
	// The daemon runs the service's loop once it serves.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, out = call("ListNotes", `{}`)
		if out["Ticks"] == float64(1) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, _ := json.Marshal(out); string(got) != `{"Notes":["hello"],"Ticks":1}` {
		t.Fatalf("ListNotes: %s", got)
	}

	// Its event reached the bus's subscribers: the daemon's event log.
	resp, err := http.Get(endpoint + "/_cloudbox/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var evs []events.Event
	if err := json.NewDecoder(resp.Body).Decode(&evs); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].DetailType != "Note Created" || evs[0].Account != "123456789012" || evs[0].Region != "eu-west-1" {
		t.Fatalf("events: %+v", evs)
	}
	// The health endpoint lists it with the built-in services.
	resp, err = http.Get(endpoint + "/_cloudbox/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var health struct {
		Services map[string]struct{ Implemented int } `json:"services"`
	}
	json.NewDecoder(resp.Body).Decode(&health)
	if health.Services["notes"].Implemented != 4 || health.Services["ec2"].Implemented == 0 {
		t.Fatalf("health: %+v", health)
	}
}

// TestRegisteredServiceInVPC: the notes service's worker lives in a VPC
// through the contract alone: its interface in the subnet with the
// security group, its slot run behind it and reported running, its name
// in the VPC's resolver, and no EC2 instance anywhere.
func TestRegisteredServiceInVPC(t *testing.T) {
	if os.Geteuid() != 0 || controllers.Check() != nil {
		t.Skip("the data plane needs Linux and root")
	}
	d, endpoint := serve(t, daemon.Config{Ephemeral: true, Dataplane: "on"})
	var ec2inv api.Invoker
	for _, s := range d.Services() {
		if s.API.Package == "ec2" {
			ec2inv = s.Invoker
		}
	}
	ctx := api.WithRequest(context.Background(), &api.Request{Region: "eu-west-1", Caller: api.Principal{Account: "123456789012"}})
	ec2call := func(op string, in any) any {
		t.Helper()
		out, err := ec2inv.Invoke(ctx, op, in)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return out
	}
	vpc := ec2call("CreateVpc", &ec2api.CreateVpcRequest{CidrBlock: aws.String("10.9.0.0/16")}).(*ec2api.CreateVpcResult).Vpc
	sub := ec2call("CreateSubnet", &ec2api.CreateSubnetRequest{VpcId: vpc.VpcId, CidrBlock: aws.String("10.9.1.0/24")}).(*ec2api.CreateSubnetResult).Subnet
	sg := ec2call("CreateSecurityGroup", &ec2api.CreateSecurityGroupRequest{GroupName: aws.String("worker"), Description: aws.String("worker"), VpcId: vpc.VpcId}).(*ec2api.CreateSecurityGroupResult)
	ec2call("AuthorizeSecurityGroupIngress", &ec2api.AuthorizeSecurityGroupIngressRequest{GroupId: sg.GroupId, IpPermissions: []*ec2api.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int64(8080), ToPort: aws.Int64(8080), IpRanges: []*ec2api.IpRange{{CidrIp: aws.String("10.9.0.0/16")}}},
	}})

	status, out := notesCall(t, endpoint, "StartWorker", fmt.Sprintf(`{"SubnetId":%q,"GroupId":%q}`, *sub.SubnetId, *sg.GroupId))
	if status != 200 || out["State"] != "starting" {
		t.Fatalf("StartWorker: %d %v", status, out)
	}
	ip := out["Ip"].(string)
	// A bound, not a timing assertion: the slot boots an image, which on
	// two loaded cores (CI runs packages side by side) takes minutes.
	deadline := time.Now().Add(5 * time.Minute)
	for out["State"] != "running" {
		if time.Now().After(deadline) {
			t.Fatalf("the worker never reported running: %v", out)
		}
		time.Sleep(50 * time.Millisecond)
		_, out = notesCall(t, endpoint, "DescribeWorker", `{}`)
	}

	// The interface is EC2's, requester-managed; no instance exists.
	enis := ec2call("DescribeNetworkInterfaces", &ec2api.DescribeNetworkInterfacesRequest{NetworkInterfaceIds: []*string{aws.String(out["Eni"].(string))}}).(*ec2api.DescribeNetworkInterfacesResult)
	if e := enis.NetworkInterfaces[0]; !*e.RequesterManaged || *e.PrivateIpAddress != ip {
		t.Errorf("the worker's interface: %+v", e)
	}
	if res := ec2call("DescribeInstances", &ec2api.DescribeInstancesRequest{}).(*ec2api.DescribeInstancesResult); len(res.Reservations) != 0 {
		t.Errorf("DescribeInstances shows %d reservations; the slot is no instance", len(res.Reservations))
	}

	// Inside the slot: its name resolves in the VPC to its address, where
	// its script's server answers.
	var info daemon.Info
	resp, err := http.Get(endpoint + "/_cloudbox/info")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	probe := `import socket, urllib.request
ip = socket.gethostbyname("worker.notes.internal")
print(ip, urllib.request.urlopen("http://" + ip + ":8080/", timeout=2).status)`
	want := ip + " 200"
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var stdout strings.Builder
		code, err := compute.ExecIn(context.Background(), filepath.Join(info.InstancesDir, "notes-w1"),
			compute.ExecRequest{Argv: []string{"python3", "-c", probe}, Stdout: &stdout})
		if got = strings.TrimSpace(stdout.String()); err == nil && code == 0 && got == want {
			return
		}
	}
	t.Fatalf("inside the worker: %q, want %q", got, want)
}
