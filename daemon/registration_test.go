package daemon_test

// A service registered through the public registration alone: this file is
// the whole of it (its package would be the same, plus one import line in
// daemon/services.go). It serves an API of its own over the daemon's
// front door, keeps its records in the daemon's store, publishes an event
// on the bus, runs a loop while the daemon serves, and uses another
// service it requires (STS) through that service's API.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/cloudbox/cloudbox/api"
	stsapi "github.com/cloudbox/cloudbox/api/sts"
	"github.com/cloudbox/cloudbox/daemon"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/registry"
	"github.com/cloudbox/cloudbox/store"
)

type putNoteInput struct {
	Text *string `type:"string" required:"true"`
}

type putNoteOutput struct {
	Id    *string `type:"string"`
	Owner *string `type:"string"`
}

type listNotesInput struct{}

type listNotesOutput struct {
	Notes []*string `type:"list"`
	Ticks *int64    `type:"integer"`
}

var notesAPI = &api.Service{
	Package: "notes", ServiceID: "Notes", EndpointPrefix: "notes", SigningName: "notes",
	Protocol: "json", APIVersion: "2026-12-07", TargetPrefix: "Notes_20261207", JSONVersion: "1.1",
	Operations: map[string]*api.Operation{
		"PutNote":   {Name: "PutNote", Method: "POST", RequestURI: "/", ResponseCode: 200, NewInput: func() any { return new(putNoteInput) }, NewOutput: func() any { return new(putNoteOutput) }},
		"ListNotes": {Name: "ListNotes", Method: "POST", RequestURI: "/", ResponseCode: 200, NewInput: func() any { return new(listNotesInput) }, NewOutput: func() any { return new(listNotesOutput) }},
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

func (n *notes) Implemented() []string { return []string{"ListNotes", "PutNote"} }

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

func TestRegisteredService(t *testing.T) {
	d, err := daemon.New(daemon.Config{Ephemeral: true})
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
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	endpoint := "http://" + ln.Addr().String()

	call := func(op, body string) (int, map[string]any) {
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
	if health.Services["notes"].Implemented != 2 || health.Services["ec2"].Implemented == 0 {
		t.Fatalf("health: %+v", health)
	}
}
