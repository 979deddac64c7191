package desired

// What the data plane observed flows back to the services through reports,
// never by a service calling into the data plane: a service declares what
// it wants (Contributor), the controllers make it so and report what they
// made, and the service moves its records on (an instance leaves pending
// when its processes run, as a target turns healthy when the load
// balancer's checks pass).

// Instance states the data plane reports.
const (
	// Running: the instance's processes run (after a boot or a start).
	Running = "running"
	// Stopped: its processes are gone and its disk is kept.
	Stopped = "stopped"
	// Terminated: its processes and its disk are gone.
	Terminated = "terminated"
	// Failed: it could not be booted.
	Failed = "failed"
)

// InstanceReporter takes the data plane's reports on instances
// (services/ec2 implements it).
type InstanceReporter interface {
	// ReportInstance says what became of an instance the desired world
	// had in a transitional state (pending, stopping, shutting-down); a
	// report that no longer fits the instance's state is ignored.
	ReportInstance(account, region, id, state, reason string) error
	// ReportConsole gives the instance's console output as it is now (AWS
	// keeps the last 64 KB).
	ReportConsole(account, region, id string, output []byte) error
}

// ImageReporter takes the data plane's reports on the images it bakes
// (EC2 implements it): ok, or why the image failed.
type ImageReporter interface {
	ReportImage(account, region, id string, ok bool, reason string) error
}

// SlotReporter takes the data plane's reports on a service's slots (the
// service that owns them implements it).
type SlotReporter interface {
	// ReportSlot says a slot now runs (Running), is stopped (Stopped) or
	// could not be started (Failed, with the reason).
	ReportSlot(account, region, id, state, reason string) error
}

// VolumeReporter takes the data plane's reports on EBS volumes and
// snapshots (EC2 implements it). A report that no longer fits the
// record's state is ignored.
type VolumeReporter interface {
	// ReportVolume: the volume's data exists (creating -> available).
	ReportVolume(account, region, id string) error
	// ReportAttachment: the volume is now attached to the instance as a
	// block device ("attached"), or no longer ("detached").
	ReportAttachment(account, region, volume, instance, state string) error
	// ReportSnapshot: the snapshot's copy is made (ok), or failed.
	ReportSnapshot(account, region, id string, ok bool, reason string) error
}
