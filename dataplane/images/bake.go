package images

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// notBaked are the paths of an instance's disk a new image leaves out:
// what belongs to the instance rather than to the image (cloud-init's
// per-instance state, so the new instances run their own user data; the
// identity the init writes at every boot).
var notBaked = []string{"var/lib/cloud", "etc/hostname", "etc/hosts", "etc/resolv.conf"}

func (s *Store) bakedDir(id string) string { return filepath.Join(s.cfg.BakedDir, id) }

// Bake makes image id from an instance's disk: a copy of its overlay's
// upper layer (what the instance changed over its own image), whiteouts
// and extended attributes kept so that it stacks over the same layers.
// The instance may run: what it writes meanwhile may or may not be in
// the image, as with CreateImage's NoReboot.
func (s *Store) Bake(ctx context.Context, id, upper string) error {
	dir := s.bakedDir(id)
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	tmp := dir + ".baking"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	// cp -a keeps the overlay's whiteouts (character devices 0:0) and its
	// trusted.* attributes (opaque directories); the copy is made in
	// place of a tar round trip.
	cmd := exec.CommandContext(ctx, "cp", "-a", "--reflink=auto", upper+"/.", tmp+"/")
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("images: baking %s: %v: %s", id, err, lastLine(out))
	}
	for _, p := range notBaked {
		if err := os.RemoveAll(filepath.Join(tmp, p)); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	s.cfg.Log.Info("images: baked", "image", id, "from", upper)
	return nil
}
