package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEBSVolumes follows the EBS user guide with the aws CLI: a volume
// created, attached, made available inside the instance (lsblk, mkfs,
// mount, write, umount), detached, attached to a second instance of the
// zone, where the file is; a snapshot of it restored into a larger
// volume that has the file too, grown again while attached; a detach
// that waits for the volume to be unmounted. No loop device outlives
// its volume.
func TestEBSVolumes(t *testing.T) {
	w := newVPCWorld(t, Opts{})
	const az = "ap-northeast-2a"
	volDir := filepath.Join(filepath.Dir(get(w.info, "instances_dir")), "volumes")
	loops := func() []string { return loopsOver(volDir) }

	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	run := func(more ...string) string {
		return get(w.aws(append([]string{"ec2", "run-instances", "--image-id", ami, "--instance-type", "t3.micro", "--placement", "AvailabilityZone=" + az}, more...)...),
			"Instances", 0, "InstanceId")
	}
	// The second has a data volume from launch, as its mappings ask,
	// which its user data formats and mounts at first boot.
	first, second := run(), run("--block-device-mappings", "DeviceName=/dev/sdf,Ebs={VolumeSize=1}", "--user-data",
		"#!/bin/sh\nmkfs -t ext4 -q /dev/xvdf && mkdir -p /srv && mount /dev/xvdf /srv && lsblk -b -d -n -o SIZE /dev/xvdf > /srv/size\n")
	w.aws("ec2", "wait", "instance-running", "--instance-ids", first, second)
	if got := w.eventually(second, "cat /srv/size", 30*time.Second); got != "1073741824" {
		t.Errorf("the launch-time volume, as the second's user data found it: %q", got)
	}

	// The root volume, as DescribeVolumes shows it.
	roots := w.aws("ec2", "describe-volumes", "--filters", "Name=attachment.instance-id,Values="+first)
	if get(roots, "Volumes", 0, "Attachments", 0, "Device") != "/dev/xvda" || get(roots, "Volumes", 0, "Attachments", 0, "DeleteOnTermination") != "true" ||
		get(roots, "Volumes", 0, "Size") != "8" || get(roots, "Volumes", 1) != "" {
		t.Fatalf("root volume of %s: %v", first, roots)
	}

	vol := get(w.aws("ec2", "create-volume", "--volume-type", "gp3", "--size", "2", "--availability-zone", az), "VolumeId")
	w.aws("ec2", "wait", "volume-available", "--volume-ids", vol)
	attached := func(vol, inst string) {
		t.Helper()
		w.poll(func() bool {
			v := w.aws("ec2", "describe-volumes", "--volume-ids", vol)
			return get(v, "Volumes", 0, "Attachments", 0, "State") == "attached" && get(v, "Volumes", 0, "Attachments", 0, "InstanceId") == inst
		})
	}
	available := func(vol string) {
		t.Helper()
		w.poll(func() bool {
			return get(w.aws("ec2", "describe-volumes", "--volume-ids", vol), "Volumes", 0, "State") == "available"
		})
	}

	w.aws("ec2", "attach-volume", "--volume-id", vol, "--instance-id", first, "--device", "/dev/sdf")
	attached(vol, first)
	// The guide's steps: lsblk shows the 2 GiB disk; make a file system,
	// mount it, write.
	if got := w.shOK(first, "lsblk -b -d -n -o SIZE /dev/xvdf"); got != "2147483648" {
		t.Fatalf("lsblk size of /dev/xvdf: %q", got)
	}
	if got := w.shOK(first, "readlink /dev/sdf; readlink /dev/xvdf"); got != "nvme1n1\nnvme1n1" {
		t.Errorf("device links: %q", got)
	}
	w.shOK(first, "mkfs -t ext4 -q /dev/xvdf && mkdir /data && mount /dev/xvdf /data && echo 'written on the first' > /data/note.txt && "+
		"df -h /data | grep -q /data && umount /data")
	// One loop device per attached volume: this one and the second's.
	if n := len(loops()); n != 2 {
		t.Fatalf("loop devices while attached: %d", n)
	}
	w.aws("ec2", "detach-volume", "--volume-id", vol)
	available(vol)
	if r := w.sh(first, "test -e /dev/xvdf"); r.ExitCode == 0 {
		t.Errorf("/dev/xvdf still in the first instance after the detach")
	}
	if l := loops(); len(l) != 1 {
		t.Fatalf("loop devices after the detach (the second's volume only): %v", l)
	}

	// The second instance of the zone has the data.
	w.aws("ec2", "attach-volume", "--volume-id", vol, "--instance-id", second, "--device", "/dev/sdg")
	attached(vol, second)
	if got := w.shOK(second, "mkdir -p /data && mount /dev/xvdg /data && cat /data/note.txt && umount /data"); got != "written on the first" {
		t.Fatalf("the file on the second instance: %q", got)
	}
	bdm := w.aws("ec2", "describe-instances", "--instance-ids", second)
	if get(bdm, "Reservations", 0, "Instances", 0, "BlockDeviceMappings", 2, "Ebs", "VolumeId") != vol {
		t.Errorf("BlockDeviceMappings of %s: %v", second, get(bdm, "Reservations", 0, "Instances", 0, "BlockDeviceMappings"))
	}

	// A snapshot, restored into a larger volume on the first instance.
	snap := get(w.aws("ec2", "create-snapshot", "--volume-id", vol, "--description", "note"), "SnapshotId")
	w.aws("ec2", "wait", "snapshot-completed", "--snapshot-ids", snap)
	restored := get(w.aws("ec2", "create-volume", "--snapshot-id", snap, "--size", "3", "--availability-zone", az), "VolumeId")
	w.aws("ec2", "wait", "volume-available", "--volume-ids", restored)
	w.aws("ec2", "attach-volume", "--volume-id", restored, "--instance-id", first, "--device", "/dev/xvdh")
	attached(restored, first)
	if got := w.shOK(first, "blockdev --getsize64 /dev/sdh && mount /dev/sdh /data && cat /data/note.txt"); got != "3221225472\nwritten on the first" {
		t.Fatalf("the restored volume: %q", got)
	}
	// Grown while attached: the device grows.
	w.aws("ec2", "modify-volume", "--volume-id", restored, "--size", "4")
	w.eventually(first, "test $(blockdev --getsize64 /dev/xvdh) = 4294967296", 10*time.Second)

	// Detached while mounted, the volume stays detaching (EBS's "busy")
	// until it is unmounted inside.
	w.aws("ec2", "detach-volume", "--volume-id", restored)
	time.Sleep(3 * time.Second)
	if st := get(w.aws("ec2", "describe-volumes", "--volume-ids", restored), "Volumes", 0, "Attachments", 0, "State"); st != "detaching" {
		t.Errorf("a mounted volume's detach: %q, want detaching", st)
	}
	w.shOK(first, "umount /data")
	available(restored)

	// Termination deletes the roots; the data volumes stay, attached
	// ones detached (and their loop devices gone), and go when deleted.
	w.aws("ec2", "attach-volume", "--volume-id", restored, "--instance-id", first, "--device", "/dev/sdh")
	attached(restored, first)
	w.aws("ec2", "terminate-instances", "--instance-ids", first)
	w.aws("ec2", "wait", "instance-terminated", "--instance-ids", first)
	available(restored)
	w.aws("ec2", "delete-volume", "--volume-id", restored)
	w.aws("ec2", "delete-snapshot", "--snapshot-id", snap)
	w.poll(func() bool {
		m, _ := filepath.Glob(filepath.Join(volDir, "*.img"))
		return len(m) == 2 && len(loopsOver(volDir)) == 2 // the second's volumes alone
	})
	// Left mounted in the second instance: `cloudbox down` (the test's
	// end) removes its loop device, which checkGone checks.
	w.shOK(second, "mount /dev/xvdg /data && cat /data/note.txt >/dev/null")
}

// loopsOver lists the host's loop devices over files of dir, as sysfs
// has them.
func loopsOver(dir string) []string {
	files, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	var mine []string
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && strings.HasPrefix(string(b), dir+"/") {
			mine = append(mine, f+": "+strings.TrimSpace(string(b)))
		}
	}
	return mine
}
