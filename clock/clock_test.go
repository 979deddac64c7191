package clock

import (
	"testing"
	"time"
)

func TestScaledNow(t *testing.T) {
	c := New(60)
	start := c.Now()
	time.Sleep(50 * time.Millisecond)
	elapsed := c.Now().Sub(start)
	// 50 ms of wall time is 3 s of virtual time; allow for scheduling.
	if elapsed < 3*time.Second || elapsed > 30*time.Second {
		t.Fatalf("virtual time elapsed %v after 50ms at scale 60, want about 3s", elapsed)
	}
	if c.Scale() != 60 {
		t.Fatalf("Scale() = %v", c.Scale())
	}
}

func TestScaleOneIsWallTime(t *testing.T) {
	c := New(0) // taken as 1
	if c.Scale() != 1 {
		t.Fatalf("Scale() = %v, want 1", c.Scale())
	}
	if d := c.Now().Sub(time.Now()); d > time.Second || d < -time.Second {
		t.Fatalf("virtual now differs from wall now by %v", d)
	}
}

func TestWallAndWaits(t *testing.T) {
	c := New(100)
	if got := c.Wall(10 * time.Second); got != 100*time.Millisecond {
		t.Fatalf("Wall(10s) = %v, want 100ms", got)
	}
	before := time.Now()
	c.Sleep(5 * time.Second) // 50 ms of wall time
	if d := time.Since(before); d < 50*time.Millisecond {
		t.Fatalf("Sleep(5s) at scale 100 took %v, want >= 50ms", d)
	}
	start := c.Now()
	select {
	case at := <-c.After(2 * time.Second):
		if at.Sub(start) < 2*time.Second {
			t.Fatalf("After(2s) fired at virtual +%v", at.Sub(start))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("After(2s) at scale 100 did not fire within 5s of wall time")
	}
}
