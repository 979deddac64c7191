package ec2

import (
	"context"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/store"
)

// Every state an instance passes through is published once committed, as
// EventBridge's "EC2 Instance State-change Notification".
func TestStateChangeEvents(t *testing.T) {
	t.Parallel()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	svc := New(st, time.Now, nil, 1)
	svc.events = events.NewBus()
	got := make(chan events.Event, 16)
	svc.events.Subscribe(func(ev events.Event) { got <- ev })
	ctx := api.WithRequest(context.Background(), &api.Request{Region: "eu-west-1", Caller: api.Principal{Account: "123456789012"}})
	out, err := svc.Invoker().Invoke(ctx, "RunInstances", &ec2api.RunInstancesRequest{ImageId: stockImagesOf("eu-west-1")[0].ImageId,
		InstanceType: str("t2.micro"), MinCount: i64(1), MaxCount: i64(1)})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.(*ec2api.Reservation).Instances[0].InstanceId
	next := func(want string) {
		t.Helper()
		select {
		case ev := <-got:
			d := ev.Detail.(map[string]string)
			if ev.Source != "aws.ec2" || ev.DetailType != "EC2 Instance State-change Notification" || d["instance-id"] != id || d["state"] != want ||
				ev.Account != "123456789012" || ev.Region != "eu-west-1" || len(ev.Resources) != 1 || ev.Resources[0] != "arn:aws:ec2:eu-west-1:123456789012:instance/"+id {
				t.Fatalf("event %+v, want state %s of %s", ev, want, id)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event for state %s", want)
		}
	}
	next(statePending)
	next(stateRunning) // the lifecycle's timer, without a data plane
	if _, err := svc.Invoker().Invoke(ctx, "TerminateInstances", &ec2api.TerminateInstancesRequest{InstanceIds: []*string{&id}}); err != nil {
		t.Fatal(err)
	}
	next(stateShuttingDown)
	next(stateTerminated)
}
