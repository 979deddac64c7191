package ec2

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// fakeClock is a control-plane clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestInstanceStateClock drives the lifecycle controller with a clock of
// its own: nothing moves until the clock says so, then everything does.
func TestInstanceStateClock(t *testing.T) {
	t.Parallel()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	clock := &fakeClock{now: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)}
	inv := New(st, clock.Now, nil, 1).Invoker()
	ctx := api.WithRequest(context.Background(), &api.Request{Region: "ap-northeast-2", Caller: api.Principal{Account: "123456789012"}})
	call := func(op string, in any) (any, error) { return inv.Invoke(ctx, op, in) }
	code := func(err error) string {
		var e *api.Error
		if errors.As(err, &e) {
			return e.Code
		}
		return ""
	}
	instanceState := func(id string) string {
		out, err := call("DescribeInstances", &ec2api.DescribeInstancesRequest{InstanceIds: []*string{&id}})
		if code(err) == "InvalidInstanceID.NotFound" {
			return "gone"
		}
		if err != nil {
			t.Fatal(err)
		}
		return *out.(*ec2api.DescribeInstancesResult).Reservations[0].Instances[0].State.Name
	}
	imageState := func(id string) string {
		out, err := call("DescribeImages", &ec2api.DescribeImagesRequest{ImageIds: []*string{&id}})
		if err != nil {
			t.Fatal(err)
		}
		return *out.(*ec2api.DescribeImagesResult).Images[0].State
	}
	eventually := func(get func(string) string, id, want string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for {
			got := get(id)
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s, want %s", id, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	ami := stableID("ami", "ap-northeast-2", "al2023-ami-2023.3.20240312.0-kernel-6.1-x86_64")
	out, err := call("RunInstances", &ec2api.RunInstancesRequest{ImageId: &ami, InstanceType: str("t3.micro"), MinCount: i64(1), MaxCount: i64(1)})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.(*ec2api.Reservation).Instances[0].InstanceId

	// Frozen clock: the instance stays pending past its boot delay.
	time.Sleep(bootDelay + 200*time.Millisecond)
	if got := instanceState(id); got != statePending {
		t.Fatalf("with the clock stopped: %s", got)
	}
	_, err = call("StopInstances", &ec2api.StopInstancesRequest{InstanceIds: []*string{&id}})
	if code(err) != "IncorrectInstanceState" {
		t.Fatalf("stopping a pending instance: %v", err)
	}
	_, err = call("CreateImage", &ec2api.CreateImageRequest{InstanceId: &id, Name: str("too-soon")})
	if code(err) != "IncorrectInstanceState" {
		t.Fatalf("imaging a pending instance: %v", err)
	}

	clock.Add(bootDelay)
	eventually(instanceState, id, stateRunning)

	img, err := call("CreateImage", &ec2api.CreateImageRequest{InstanceId: &id, Name: str("golden")})
	if err != nil {
		t.Fatal(err)
	}
	imgID := *img.(*ec2api.CreateImageResult).ImageId
	time.Sleep(imageDelay + 200*time.Millisecond)
	if got := imageState(imgID); got != "pending" {
		t.Fatalf("image with the clock stopped: %s", got)
	}
	clock.Add(imageDelay)
	eventually(imageState, imgID, "available")

	if _, err := call("StopInstances", &ec2api.StopInstancesRequest{InstanceIds: []*string{&id}}); err != nil {
		t.Fatal(err)
	}
	if got := instanceState(id); got != stateStopping {
		t.Fatalf("after StopInstances: %s", got)
	}
	clock.Add(stopDelay)
	eventually(instanceState, id, stateStopped)

	if _, err := call("TerminateInstances", &ec2api.TerminateInstancesRequest{InstanceIds: []*string{&id}}); err != nil {
		t.Fatal(err)
	}
	clock.Add(terminateDelay)
	eventually(instanceState, id, stateTerminated)
	// Terminated instances stay visible for about an hour.
	clock.Add(terminatedTTL - time.Minute)
	if got := instanceState(id); got != stateTerminated {
		t.Fatalf("a terminated instance within the hour: %s", got)
	}
	clock.Add(time.Minute)
	if got := instanceState(id); got != "gone" {
		t.Fatalf("a terminated instance after the hour: %s", got)
	}
}
