package elasticache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// A replication group made from a snapshot: its first node's first boot
// waits, its server stopped, while ElastiCache writes the snapshot's RDB
// as the server's dump through the slots' exec; the server loads it when
// it starts, and the replicas sync from it.

// restoreDir holds the restored node's handshake: its boot says ready
// and waits for loaded (or failed).
const restoreDir = "/var/lib/elasticache-restore"

// loadScript writes standard input as the server's dump, whole or not
// at all.
const loadScript = `set -e
install -o redis -g redis -m 640 /dev/null /var/lib/redis/dump.rdb.tmp
cat > /var/lib/redis/dump.rdb.tmp
mv /var/lib/redis/dump.rdb.tmp /var/lib/redis/dump.rdb`

// restoreSource is the snapshot a create names, which must be
// available; what the request leaves out (engine, version, node type,
// port) comes from it.
func (s *Service) restoreSource(sc scope, in *ecapi.CreateReplicationGroupMessage) (*snapshot, error) {
	if in.SnapshotName == nil {
		return nil, nil
	}
	var sn *snapshot
	err := s.store.View(func(tx *store.Tx) (err error) {
		sn, err = loadSnapshot(tx, sc, *in.SnapshotName)
		return err
	})
	if err != nil {
		return nil, err
	}
	if sn.Status != "available" {
		return nil, api.Errorf("InvalidSnapshotState", "Snapshot %s is not in available state.", sn.Name)
	}
	if in.Engine == nil {
		in.Engine = str(sn.Engine)
	}
	if in.EngineVersion == nil {
		in.EngineVersion = str(sn.EngineVersion)
	}
	if in.CacheNodeType == nil {
		in.CacheNodeType = str(sn.NodeType)
	}
	if in.Port == nil {
		in.Port = i64(sn.Port)
	}
	return sn, nil
}

// restoreLink gives a new group its own link to the snapshot's RDB (the
// snapshot may go meanwhile); none, and no name, when there is nothing
// to load (no content, or no data plane to load it into): the group is
// then made as create makes one.
func (s *Service) restoreLink(sc scope, sn *snapshot) (name, rel string, err error) {
	if sn.File == "" || s.snaps.real() == nil {
		return "", "", nil
	}
	rel = filepath.Join("elasticache", sc.account, sc.region, "restore", randomName())
	to := s.snaps.path(rel)
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return "", "", err
	}
	if err := os.Link(s.snaps.path(sn.File), to); err != nil {
		return "", "", err
	}
	return sn.Name, rel, syncDir(filepath.Dir(to))
}

// restoreJobs are the groups whose first node waits for its RDB.
func restoreJobs(tx *store.Tx, sc scope) ([]*replicationGroup, error) {
	rgs, err := store.ListAll[replicationGroup](tx, sc.account, sc.region, kindRG)
	var out []*replicationGroup
	for _, rg := range rgs {
		if rg.RestoreFile != "" && rg.Status != "deleting" {
			out = append(out, rg)
		}
	}
	return out, err
}

// restore loads a restored group's RDB into its first node once the
// node's boot says ready, then lets the boot go on (the group turns
// available when its nodes serve). A failed load fails the node's boot,
// hence the group's creation.
func (s *Service) restore(sc scope, rg *replicationGroup, ex desired.SlotExec) {
	slot := sc.slotID(rg.ID+"-001", 0)
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	code, failure := ex.ExecSlot(ctx, slot, []string{"test", "-e", restoreDir + "/ready"}, nil, nil)
	if failure == nil && code != 0 || errors.Is(failure, desired.ErrSlotNotRunning) {
		return // not ready yet: the next step asks again
	}
	if failure == nil {
		failure = s.load(ctx, ex, slot, rg.RestoreFile)
	}
	flag := "loaded"
	if failure != nil {
		flag = "failed"
		s.log.Error("elasticache: restoring a replication group", "account", sc.account, "region", sc.region, "id", rg.ID, "snapshot", rg.Restore, "error", failure)
	}
	// The node's boot goes on either way; a node that is gone needs no word.
	ex.ExecSlot(ctx, slot, []string{"touch", restoreDir + "/" + flag}, nil, nil)
	err := s.store.Update(func(tx *store.Tx) error {
		cur, ok, err := store.Get[replicationGroup](tx, sc.key(kindRG, rg.ID))
		if err != nil || !ok || !cur.Created.Equal(rg.Created) || cur.RestoreFile != rg.RestoreFile {
			return err
		}
		cur.RestoreFile = ""
		return tx.Put(sc.key(kindRG, cur.ID), cur)
	})
	if err != nil {
		s.log.Warn("elasticache: recording a restore", "id", rg.ID, "error", err)
		return
	}
	s.snaps.remove(rg.RestoreFile)
}

// load streams the RDB into the node as its server's dump.
func (s *Service) load(ctx context.Context, ex desired.SlotExec, slot, rel string) error {
	f, err := os.Open(s.snaps.path(rel))
	if err != nil {
		return err
	}
	defer f.Close()
	code, err := ex.ExecSlot(ctx, slot, []string{"bash", "-c", loadScript}, f, nil)
	if err == nil && code != 0 {
		err = fmt.Errorf("writing the RDB exited with status %d", code)
	}
	if err == nil {
		s.log.Info("elasticache: loaded a snapshot's RDB", "slot", slot)
	}
	return err
}
