package compute

import (
	"strings"
	"testing"
)

func TestParseHelperArgs(t *testing.T) {
	for _, c := range []struct {
		argv []string
		want mountRequest
		fake bool
		bad  bool
	}{
		{argv: []string{"/sbin/fs.d/mount.ext4", "/dev/nvme1n1", "/data", "-o", "rw"},
			want: mountRequest{Op: "mount", FSType: "ext4", Source: "/dev/nvme1n1", Target: "/data", Options: "rw"}},
		{argv: []string{"/sbin/fs.d/mount.xfs", "/dev/xvdf", "/data", "-n", "-o", "noatime,nouuid", "-t", "xfs"},
			want: mountRequest{Op: "mount", FSType: "xfs", Source: "/dev/xvdf", Target: "/data", Options: "noatime,nouuid"}},
		{argv: []string{"mount.ext4", "/dev/xvdf", "/data", "-r"},
			want: mountRequest{Op: "mount", FSType: "ext4", Source: "/dev/xvdf", Target: "/data", Options: "ro"}},
		{argv: []string{"mount.ext4", "/dev/xvdf", "/data", "-f"}, fake: true,
			want: mountRequest{Op: "mount", FSType: "ext4", Source: "/dev/xvdf", Target: "/data"}},
		{argv: []string{"/sbin/fs.d/umount.ext4", "/data", "-n"}, want: mountRequest{Op: "umount", FSType: "ext4", Target: "/data"}},
		{argv: []string{"umount.ext4", "/data", "-l"}, want: mountRequest{Op: "umount", FSType: "ext4", Target: "/data", Lazy: true}},
		{argv: []string{"mount.ext4", "/dev/xvdf", "/data", "-N", "/proc/1/ns/mnt"}, bad: true},
		{argv: []string{"mount.ext4", "/dev/xvdf"}, bad: true},
		{argv: []string{"mount.nfs", "h:/x", "/data"}, bad: true},
		{argv: []string{"mount.ext4", "/dev/xvdf", "/data", "-o"}, bad: true},
		{argv: []string{"mount.ext4", "/dev/xvdf", "/data", "-q"}, bad: true},
	} {
		got, fake, err := parseHelperArgs(c.argv)
		if c.bad {
			if err == nil {
				t.Errorf("%q: accepted as %+v", c.argv, got)
			}
			continue
		}
		if err != nil || got != c.want || fake != c.fake {
			t.Errorf("%q: %+v fake=%v %v, want %+v fake=%v", c.argv, got, fake, err, c.want, c.fake)
		}
	}
}

func TestParseMountOptions(t *testing.T) {
	flags, data, err := parseMountOptions("defaults,nofail,ro,noatime,x-systemd.automount,errors=remount-ro,discard,rw,nosuid")
	if err != nil || flags != msNOATIME|msNOSUID || data != "errors=remount-ro,discard" {
		t.Fatalf("flags %#x data %q err %v", flags, data, err)
	}
	for _, bad := range []string{"bind", "remount,rw", "rshared", strings.Repeat("a", maxOptions+1)} {
		if _, _, err := parseMountOptions(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzMountHelper: whatever an instance's root passes the helpers, the
// parsers answer without panicking, and what they accept is well formed.
func FuzzMountHelper(f *testing.F) {
	f.Add("mount.ext4\x00/dev/xvdf\x00/data\x00-o\x00rw,noatime")
	f.Add("umount.xfs\x00/data\x00-lnf")
	f.Add("mount.vfat\x00/dev/sdf\x00/mnt\x00-sfnv\x00-t\x00vfat.sub")
	f.Fuzz(func(t *testing.T, s string) {
		argv := strings.Split(s, "\x00")
		req, _, err := parseHelperArgs(argv)
		if err != nil {
			return
		}
		if req.Op != "mount" && req.Op != "umount" || req.Target == "" && len(argv) < 2 {
			t.Fatalf("accepted %q as %+v", argv, req)
		}
		flags, data, err := parseMountOptions(req.Options)
		if err != nil {
			return
		}
		if flags&^(msRDONLY|msNOSUID|msNODEV|msNOEXEC|msSYNCHRONOUS|msDIRSYNC|msNOATIME|msNODIRATIME|msSILENT|msRELATIME|msSTRICTATIME|msLAZYTIME) != 0 {
			t.Fatalf("flags %#x from %q", flags, req.Options)
		}
		if len(data) > len(req.Options) {
			t.Fatalf("data %q longer than the options %q", data, req.Options)
		}
	})
}
