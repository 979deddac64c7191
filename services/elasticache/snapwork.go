package elasticache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// The work behind snapshots: a node's RDB taken inside it through the
// SlotExec the daemon hands ElastiCache and kept under the daemon's
// files; without a data plane, snapshots move on the virtual clock with
// no content.

// snapshotDelay is how long (virtual time) a snapshot without content
// takes, and a copy.
const snapshotDelay = 2 * time.Second

// rdbScript takes the node's RDB as a replica would get it (redis-cli
// --rdb over the node's own socket, so neither TLS nor the network is
// involved; the AUTH token from the node's env file) into a temporary
// file, then writes it out. redis-cli's chatter goes to standard error.
const rdbScript = authEnv + `
f=$(mktemp /var/lib/redis/snapshot.XXXXXX)
trap 'rm -f "$f"' EXIT
redis-cli -s /var/lib/redis/redis-server.sock --rdb "$f" >&2 && cat "$f"`

// slotGrace is how long (wall time) a snapshot waits for a node whose
// slot does not run (the data plane's first sync after a restart).
const slotGrace = 5 * time.Minute

// execTimeout bounds taking one RDB.
const execTimeout = time.Hour

// snapshotter is the state of the snapshot work.
type snapshotter struct {
	mu sync.Mutex
	// exec runs commands in ElastiCache's slots (nil: no data plane);
	// files is where RDBs are kept ("": nowhere, no content).
	exec  desired.SlotExec
	files string
	// busy are the snapshots being worked on; waiting, since when a
	// snapshot's node has not been running.
	busy    map[string]bool
	waiting map[string]time.Time
}

// UseSlotExec implements desired.SlotExecUser.
func (s *Service) UseSlotExec(e desired.SlotExec) {
	s.snaps.mu.Lock()
	defer s.snaps.mu.Unlock()
	s.snaps.exec = e
}

// UseFiles sets the directory under which snapshots' RDBs are kept (a
// subdirectory elasticache/), before ElastiCache serves. A dump a crash
// cut short left its temporary file there; none runs yet, so they go.
func (s *Service) UseFiles(dir string) {
	s.snaps.mu.Lock()
	defer s.snaps.mu.Unlock()
	s.snaps.files = dir
	if dir == "" {
		return
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, "elasticache", "*", "*", "snapshots", "*.tmp"))
	for _, f := range tmps {
		os.Remove(f)
	}
}

// real is the exec to take RDBs with, nil when snapshots have no
// content (no data plane, or no files directory).
func (sn *snapshotter) real() desired.SlotExec {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.exec == nil || sn.files == "" {
		return nil
	}
	return sn.exec
}

func (sn *snapshotter) path(rel string) string {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	return filepath.Join(sn.files, rel)
}

func (sn *snapshotter) remove(rel string) {
	if rel != "" {
		os.Remove(sn.path(rel))
	}
}

func (sn *snapshotter) claim(k string) bool {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.busy == nil {
		sn.busy = map[string]bool{}
	}
	if sn.busy[k] {
		return false
	}
	sn.busy[k] = true
	return true
}

func (sn *snapshotter) release(k string) {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	delete(sn.busy, k)
}

// waited is how long snapshot k has waited for its node (zero the first
// time); done forgets it.
func (sn *snapshotter) waited(k string, done bool) time.Duration {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if done {
		delete(sn.waiting, k)
		return 0
	}
	if sn.waiting == nil {
		sn.waiting = map[string]time.Time{}
	}
	if since, ok := sn.waiting[k]; ok {
		return time.Since(since)
	}
	sn.waiting[k] = time.Now()
	return 0
}

// snapshotDir is a scope's directory of RDBs, relative to the files.
func snapshotDir(sc scope) string {
	return filepath.Join("elasticache", sc.account, sc.region, "snapshots")
}

func randomName() string {
	b := make([]byte, 10)
	rand.Read(b)
	return hex.EncodeToString(b) + ".rdb"
}

// snapshotStep starts the work of each creating snapshot and each
// restore waiting for its RDB, once.
func (s *Service) snapshotStep() error {
	type job struct {
		sc scope
		sn *snapshot
		rg *replicationGroup
	}
	var jobs []job
	ex := s.snaps.real()
	err := s.store.View(func(tx *store.Tx) error {
		if ex != nil {
			scopes, err := scopesWithNodes(tx)
			if err != nil {
				return err
			}
			for _, p := range scopes {
				sc := scope{account: p[0], region: p[1]}
				rgs, err := restoreJobs(tx, sc)
				if err != nil {
					return err
				}
				for _, rg := range rgs {
					jobs = append(jobs, job{sc: sc, rg: rg})
				}
			}
		}
		scopes, err := tx.Scopes(kindSnapshot)
		if err != nil {
			return err
		}
		for _, p := range scopes {
			sc := scope{account: p[0], region: p[1]}
			list, err := store.ListAll[snapshot](tx, sc.account, sc.region, kindSnapshot)
			if err != nil {
				return err
			}
			for _, sn := range list {
				if sn.Status == "creating" {
					jobs = append(jobs, job{sc: sc, sn: sn})
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, j := range jobs {
		k := j.sc.account + "/" + j.sc.region + "/"
		if j.sn != nil {
			k += "snapshot/" + j.sn.Name
		} else {
			k += "restore/" + j.rg.ID
		}
		if !s.snaps.claim(k) {
			continue
		}
		go func() {
			defer s.snaps.release(k)
			if j.sn != nil {
				s.takeSnapshot(j.sc, j.sn, k)
			} else {
				s.restore(j.sc, j.rg, ex)
			}
		}()
	}
	return nil
}

// errNotYet: the node does not run yet; the next step tries again.
var errNotYet = errors.New("not yet")

// takeSnapshot makes a creating snapshot's content: a new snapshot takes
// its node's RDB; a copy (its link made already) and a snapshot without
// content only wait their time.
func (s *Service) takeSnapshot(sc scope, sn *snapshot, k string) {
	ex := s.snaps.real()
	var err error
	switch {
	case sn.Source != "" || ex == nil:
		if s.now().Sub(sn.StatusSince) < snapshotDelay {
			return // the next step
		}
	default:
		err = s.dump(sc, sn, ex, k)
	}
	if errors.Is(err, errNotYet) {
		return
	}
	s.finishSnapshot(sc, sn, err)
}

// link makes a copy's own name for its source's RDB (written once, so
// they may share it; deleting either leaves the other's).
func (s *Service) link(sc scope, from string) (string, error) {
	rel := filepath.Join(snapshotDir(sc), randomName())
	to := s.snaps.path(rel)
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return "", err
	}
	if err := os.Link(s.snaps.path(from), to); err != nil {
		return "", err
	}
	return rel, syncDir(filepath.Dir(to))
}

// dump streams the node's RDB into the snapshot's file, written durably:
// a temporary file synced, then renamed and its directory synced, so a
// crash leaves the whole RDB or none.
func (s *Service) dump(sc scope, sn *snapshot, ex desired.SlotExec, k string) error {
	var slot string
	err := s.store.View(func(tx *store.Tx) error {
		rg, n, err := findCluster(tx, sc, sn.Cluster)
		if err != nil || rg.ID != sn.Group || !n.Created.Equal(sn.NodeCreated) {
			return errors.Join(err, fmt.Errorf("the cache cluster %s is gone", sn.Cluster))
		}
		slot = sc.slotID(n.Cluster, n.Gen)
		return nil
	})
	if err != nil {
		return err
	}
	rel := filepath.Join(snapshotDir(sc), randomName())
	final := s.snaps.path(rel)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return err
	}
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	out := &header{w: f}
	code, err := ex.ExecSlot(ctx, slot, []string{"bash", "-c", rdbScript}, nil, out)
	switch {
	case err != nil:
	case code != 0:
		err = fmt.Errorf("redis-cli --rdb exited with status %d", code)
	case !bytes.HasPrefix(out.head, []byte("REDIS")):
		err = fmt.Errorf("the node's output is not an RDB file")
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, desired.ErrSlotNotRunning) && s.snaps.waited(k, false) < slotGrace {
		return errNotYet
	}
	s.snaps.waited(k, true)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return err
	}
	sn.File, sn.Size = rel, out.n
	s.log.Info("elasticache: took a node's RDB", "account", sc.account, "region", sc.region, "snapshot", sn.Name,
		"cluster", sn.Cluster, "bytes", sn.Size, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// header counts what is written through it and keeps its first bytes
// (an RDB starts with "REDIS").
type header struct {
	w    *os.File
	n    int64
	head []byte
}

func (h *header) Write(p []byte) (int, error) {
	if len(h.head) < 5 {
		h.head = append(h.head, p[:min(len(p), 5-len(h.head))]...)
	}
	n, err := h.w.Write(p)
	h.n += int64(n)
	return n, err
}

// finishSnapshot records the outcome: available, or failed with the
// reason, and ElastiCache's event on the node.
func (s *Service) finishSnapshot(sc scope, sn *snapshot, failure error) {
	now := s.now()
	err := s.store.Update(func(tx *store.Tx) error {
		cur, ok, err := store.Get[snapshot](tx, sc.key(kindSnapshot, sn.Name))
		if err != nil {
			return err
		}
		if !ok || cur.Status != "creating" || !cur.Created.Equal(sn.Created) {
			s.snaps.remove(sn.File) // no one's any more
			return nil
		}
		cur.File, cur.Size, cur.StatusSince = sn.File, sn.Size, now
		msg := fmt.Sprintf("Snapshot succeeded for snapshot with ID '%s' of cache cluster with ID '%s'", cur.Name, cur.Cluster)
		cur.Status = "available"
		if failure != nil {
			cur.Status, cur.Reason = "failed", failure.Error()
			msg = fmt.Sprintf("Snapshot failed for snapshot with ID '%s' of cache cluster with ID '%s'", cur.Name, cur.Cluster)
			s.log.Error("elasticache: a snapshot failed", "account", sc.account, "region", sc.region, "snapshot", cur.Name, "error", failure)
		}
		if err := recordEvent(tx, sc, now, "cache-cluster", cur.Cluster, msg); err != nil {
			return err
		}
		// A deleting group's final snapshot taken: the group goes now.
		rg, ok, err := store.Get[replicationGroup](tx, sc.key(kindRG, cur.Group))
		if err != nil {
			return err
		}
		if ok && rg.FinalSnapshot == cur.Name {
			rg.FinalSnapshot, rg.DeleteAt = "", now.Add(deleteTime)
			if err := tx.Put(sc.key(kindRG, rg.ID), rg); err != nil {
				return err
			}
		}
		return tx.Put(sc.key(kindSnapshot, cur.Name), cur)
	})
	if err != nil {
		s.log.Warn("elasticache: recording a snapshot", "snapshot", sn.Name, "error", err)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
