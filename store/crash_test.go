package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashDirEnv, when set, makes TestCrash the child process writing to the
// store in that directory until it is killed.
const crashDirEnv = "CLOUDBOX_STORE_CRASH_DIR"

// A crash-test transaction writes a vpc and its subnets, which must exist
// together, and now and then deletes an earlier vpc with its subnets.
type crashVPC struct {
	Seq     uint64
	Subnets int
}

type crashSubnet struct {
	VPC string
}

func crashVPCKey(seq uint64) Key {
	return Key{Account: acct, Region: east, Kind: "ec2:vpc", ID: fmt.Sprintf("vpc-%08d", seq)}
}

func crashSubnetKey(vpc string, i int) Key {
	return Key{Account: acct, Region: east, Kind: "ec2:subnet", ID: fmt.Sprintf("%s-subnet-%d", vpc, i)}
}

// TestCrash kills a writer with SIGKILL at random moments and checks after
// each kill that every transaction is wholly present or wholly absent, and
// that every transaction the writer saw commit is present.
func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dir := t.TempDir()
	var committed uint64 // highest seq the children reported committed
	for round := range 8 {
		// The child logs its commits to a file rather than a pipe: reading
		// a pipe would wake this process at each commit, and the kill would
		// then tend to land just after one.
		log, err := os.Create(filepath.Join(t.TempDir(), "commits"))
		if err != nil {
			t.Fatal(err)
		}
		defer log.Close()
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		cmd.Stdout = log
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill at a random moment once the child is writing (its start-up
		// time varies a lot, e.g. under -race), or after a timeout.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			if fi, err := log.Stat(); err != nil || fi.Size() > 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
		if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v before being killed:\n%s", round, err, stderr.String())
		}
		out, err := os.ReadFile(log.Name())
		if err != nil {
			t.Fatal(err)
		}
		// Only whole lines count; the last one is the latest commit.
		lines := strings.Split(string(out[:bytes.LastIndexByte(out, '\n')+1]), "\n")
		for _, line := range lines {
			if n, ok := strings.CutPrefix(line, "committed "); ok {
				if committed, err = strconv.ParseUint(n, 10, 64); err != nil {
					t.Fatal(err)
				}
			}
		}
		t.Logf("round %d: %d transactions committed so far", round, committed)
		checkCrashStore(t, dir, committed)
	}
	if committed == 0 {
		t.Fatal("the writer never committed")
	}
}

func checkCrashStore(t *testing.T, dir string, committed uint64) {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(func(tx *Tx) error {
		vpcs, subnets := 0, 0
		err := tx.List(acct, east, "ec2:vpc", func(id string, raw []byte) error {
			var v crashVPC
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			vpcs++
			subnets += v.Subnets
			for i := range v.Subnets {
				if ok, err := tx.Get(crashSubnetKey(id, i), &crashSubnet{}); !ok || err != nil {
					t.Errorf("%s has no subnet %d (%v)", id, i, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.List(acct, east, "ec2:subnet", func(id string, raw []byte) error {
			var sub crashSubnet
			if err := json.Unmarshal(raw, &sub); err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			if ok, err := tx.Get(Key{Account: acct, Region: east, Kind: "ec2:vpc", ID: sub.VPC}, &crashVPC{}); !ok || err != nil {
				t.Errorf("subnet %s without its vpc (%v)", id, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, c := range []struct {
			kind string
			want int
		}{{"ec2:vpc", vpcs}, {"ec2:subnet", subnets}} {
			if n, err := tx.Count(acct, east, c.kind); n != c.want || err != nil {
				t.Errorf("Count(%s) = %d, %v; listed %d", c.kind, n, err, c.want)
			}
		}
		// The last acknowledged commit is there: only transaction
		// 2*committed could have deleted its vpc.
		if committed > 0 {
			if ok, err := tx.Get(crashVPCKey(committed), &crashVPC{}); !ok || err != nil {
				t.Errorf("acknowledged vpc %d is missing (%v)", committed, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// crashDeleteEvery: transaction seq also deletes vpc seq/2 (with its
// subnets) when seq is a multiple of it, to crash during deletes too.
const crashDeleteEvery = 3

// crashChild writes transactions until killed, printing each committed
// sequence number.
func crashChild(t *testing.T, dir string) {
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for {
		var seq uint64
		err := s.Update(func(tx *Tx) error {
			var err error
			if seq, err = tx.NextID(acct, east, "ec2:vpc"); err != nil {
				return err
			}
			if seq%crashDeleteEvery == 0 {
				old := crashVPCKey(seq / 2)
				var v crashVPC
				ok, err := tx.Get(old, &v)
				if err != nil {
					return err
				}
				if ok {
					for i := range v.Subnets {
						if _, err := tx.Delete(crashSubnetKey(old.ID, i)); err != nil {
							return err
						}
					}
					if _, err := tx.Delete(old); err != nil {
						return err
					}
				}
			}
			k := crashVPCKey(seq)
			v := crashVPC{Seq: seq, Subnets: 1 + int(seq%8)}
			for i := range v.Subnets {
				if err := tx.Put(crashSubnetKey(k.ID, i), crashSubnet{VPC: k.ID}); err != nil {
					return err
				}
			}
			return tx.Put(k, v)
		})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("committed %d\n", seq)
	}
}
