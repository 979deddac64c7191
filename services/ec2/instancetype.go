package ec2

import (
	"context"
	_ "embed"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
)

// The instance type catalogue: instancetypes.json holds the current and
// previous generation types with the vCPUs, memory, network performance,
// architectures and interface limits AWS's instance type specifications
// give; the rest of InstanceTypeInfo is derived from those here. It is
// read once at start and read-only after.

//go:embed instancetypes.json
var instanceTypesJSON []byte

// typeSpec is one entry of instancetypes.json.
type typeSpec struct {
	Type               string   `json:"type"`
	VCPUs              int64    `json:"vcpus"`
	MemoryMiB          int64    `json:"memoryMiB"`
	NetworkPerformance string   `json:"networkPerformance"`
	MaxENIs            int64    `json:"maxENIs"`
	IPv4PerENI         int64    `json:"ipv4PerENI"`
	Architectures      []string `json:"architectures"`
	Hypervisor         string   `json:"hypervisor"`
	Manufacturer       string   `json:"manufacturer"`
	ClockGHz           *float64 `json:"clockGHz"`
	Burstable          bool     `json:"burstable"`
	CurrentGeneration  bool     `json:"currentGeneration"`
	ThreadsPerCore     int64    `json:"threadsPerCore"`
	Virtualization     []string `json:"virtualization"`
	FreeTierEligible   bool     `json:"freeTierEligible"`
	// EbsOptimizedSupport and EnaSupport as DescribeInstanceTypes words
	// them: "default", "supported", "unsupported".
	EbsOptimizedSupport string `json:"ebsOptimizedSupport"`
	EnaSupport          string `json:"enaSupport"`
}

// instanceTypes is the catalogue, sorted by name; instanceTypeIndex finds
// an entry by name.
var instanceTypes, instanceTypeIndex = buildInstanceTypes(instanceTypesJSON)

func buildInstanceTypes(data []byte) ([]*ec2api.InstanceTypeInfo, map[string]*ec2api.InstanceTypeInfo) {
	var specs []typeSpec
	if err := json.Unmarshal(data, &specs); err != nil {
		panic("ec2: instancetypes.json: " + err.Error())
	}
	var all []*ec2api.InstanceTypeInfo
	index := map[string]*ec2api.InstanceTypeInfo{}
	for _, sp := range specs {
		t := newInstanceTypeInfo(sp)
		all = append(all, t)
		index[sp.Type] = t
	}
	sort.Slice(all, func(i, j int) bool { return *all[i].InstanceType < *all[j].InstanceType })
	return all, index
}

func newInstanceTypeInfo(sp typeSpec) *ec2api.InstanceTypeInfo {
	threads := sp.ThreadsPerCore
	cores := sp.VCPUs / threads
	var validCores []*int64
	for c := int64(1); c <= cores; c++ {
		validCores = append(validCores, i64(c))
	}
	validThreads := []*int64{i64(1)}
	if threads == 2 {
		validThreads = append(validThreads, i64(2))
	}
	arm := slices.Contains(sp.Architectures, "arm64")
	bootModes := []*string{str("legacy-bios"), str("uefi")}
	if arm {
		bootModes = []*string{str("uefi")}
	} else if sp.Hypervisor == "xen" {
		bootModes = []*string{str("legacy-bios")}
	}
	nvme := "supported"
	if sp.Hypervisor == "xen" {
		nvme = "unsupported"
	}
	name := sp.Type
	return &ec2api.InstanceTypeInfo{
		InstanceType:                  str(name),
		CurrentGeneration:             boolp(sp.CurrentGeneration),
		FreeTierEligible:              boolp(sp.FreeTierEligible),
		SupportedUsageClasses:         []*string{str("on-demand"), str("spot")},
		SupportedRootDeviceTypes:      []*string{str("ebs")},
		SupportedVirtualizationTypes:  strs(sp.Virtualization),
		SupportedBootModes:            bootModes,
		BareMetal:                     boolp(false),
		Hypervisor:                    str(sp.Hypervisor),
		ProcessorInfo:                 &ec2api.ProcessorInfo{SupportedArchitectures: strs(sp.Architectures), SustainedClockSpeedInGhz: sp.ClockGHz, Manufacturer: str(sp.Manufacturer)},
		VCpuInfo:                      &ec2api.VCpuInfo{DefaultVCpus: i64(sp.VCPUs), DefaultCores: i64(cores), DefaultThreadsPerCore: i64(threads), ValidCores: validCores, ValidThreadsPerCore: validThreads},
		MemoryInfo:                    &ec2api.MemoryInfo{SizeInMiB: i64(sp.MemoryMiB)},
		InstanceStorageSupported:      boolp(false),
		EbsInfo:                       &ec2api.EbsInfo{EbsOptimizedSupport: str(sp.EbsOptimizedSupport), EncryptionSupport: str("supported"), NvmeSupport: str(nvme)},
		NetworkInfo:                   networkInfo(sp),
		PlacementGroupInfo:            &ec2api.PlacementGroupInfo{SupportedStrategies: []*string{str("cluster"), str("partition"), str("spread")}},
		HibernationSupported:          boolp(!arm && sp.CurrentGeneration),
		BurstablePerformanceSupported: boolp(sp.Burstable),
		DedicatedHostsSupported:       boolp(!sp.Burstable),
		AutoRecoverySupported:         boolp(true),
	}
}

func strs(ss []string) []*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = str(ss[i])
	}
	return out
}

func networkInfo(sp typeSpec) *ec2api.NetworkInfo {
	return &ec2api.NetworkInfo{
		NetworkPerformance:           str(sp.NetworkPerformance),
		MaximumNetworkInterfaces:     i64(sp.MaxENIs),
		MaximumNetworkCards:          i64(1),
		DefaultNetworkCardIndex:      i64(0),
		NetworkCards:                 []*ec2api.NetworkCardInfo{{NetworkCardIndex: i64(0), NetworkPerformance: str(sp.NetworkPerformance), MaximumNetworkInterfaces: i64(sp.MaxENIs)}},
		Ipv4AddressesPerInterface:    i64(sp.IPv4PerENI),
		Ipv6AddressesPerInterface:    i64(sp.IPv4PerENI),
		Ipv6Supported:                boolp(sp.CurrentGeneration),
		EnaSupport:                   str(sp.EnaSupport),
		EfaSupported:                 boolp(false),
		EncryptionInTransitSupported: boolp(false),
		EnaSrdSupported:              boolp(false),
	}
}

// lookupInstanceType returns the catalogue entry of name, or AWS's error for
// RunInstances and ModifyInstanceAttribute.
func lookupInstanceType(name string) (*ec2api.InstanceTypeInfo, error) {
	if t, ok := instanceTypeIndex[name]; ok {
		return t, nil
	}
	return nil, invalidParameter("Invalid value '%s' for InstanceType.", name)
}

// supportsArch reports whether the type runs images of architecture arch.
func supportsArch(t *ec2api.InstanceTypeInfo, arch string) bool {
	for _, a := range t.ProcessorInfo.SupportedArchitectures {
		if *a == arch {
			return true
		}
	}
	return false
}

func strsField(ss []*string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, deref(s))
	}
	return out
}

var instanceTypeFields = fields[ec2api.InstanceTypeInfo]{
	"instance-type":                      func(t *ec2api.InstanceTypeInfo) []string { return one(t.InstanceType) },
	"current-generation":                 func(t *ec2api.InstanceTypeInfo) []string { return boolField(t.CurrentGeneration) },
	"free-tier-eligible":                 func(t *ec2api.InstanceTypeInfo) []string { return boolField(t.FreeTierEligible) },
	"bare-metal":                         func(t *ec2api.InstanceTypeInfo) []string { return boolField(t.BareMetal) },
	"burstable-performance-supported":    func(t *ec2api.InstanceTypeInfo) []string { return boolField(t.BurstablePerformanceSupported) },
	"hibernation-supported":              func(t *ec2api.InstanceTypeInfo) []string { return boolField(t.HibernationSupported) },
	"dedicated-hosts-supported":          func(t *ec2api.InstanceTypeInfo) []string { return boolField(t.DedicatedHostsSupported) },
	"auto-recovery-supported":            func(t *ec2api.InstanceTypeInfo) []string { return boolField(t.AutoRecoverySupported) },
	"instance-storage-supported":         func(t *ec2api.InstanceTypeInfo) []string { return boolField(t.InstanceStorageSupported) },
	"hypervisor":                         func(t *ec2api.InstanceTypeInfo) []string { return one(t.Hypervisor) },
	"supported-usage-class":              func(t *ec2api.InstanceTypeInfo) []string { return strsField(t.SupportedUsageClasses) },
	"supported-root-device-type":         func(t *ec2api.InstanceTypeInfo) []string { return strsField(t.SupportedRootDeviceTypes) },
	"supported-virtualization-type":      func(t *ec2api.InstanceTypeInfo) []string { return strsField(t.SupportedVirtualizationTypes) },
	"supported-boot-mode":                func(t *ec2api.InstanceTypeInfo) []string { return strsField(t.SupportedBootModes) },
	"memory-info.size-in-mib":            func(t *ec2api.InstanceTypeInfo) []string { return int64Field(t.MemoryInfo.SizeInMiB) },
	"vcpu-info.default-vcpus":            func(t *ec2api.InstanceTypeInfo) []string { return int64Field(t.VCpuInfo.DefaultVCpus) },
	"vcpu-info.default-cores":            func(t *ec2api.InstanceTypeInfo) []string { return int64Field(t.VCpuInfo.DefaultCores) },
	"vcpu-info.default-threads-per-core": func(t *ec2api.InstanceTypeInfo) []string { return int64Field(t.VCpuInfo.DefaultThreadsPerCore) },
	"vcpu-info.valid-cores": func(t *ec2api.InstanceTypeInfo) []string {
		var out []string
		for _, c := range t.VCpuInfo.ValidCores {
			out = append(out, int64Field(c)...)
		}
		return out
	},
	"processor-info.supported-architecture": func(t *ec2api.InstanceTypeInfo) []string {
		return strsField(t.ProcessorInfo.SupportedArchitectures)
	},
	"processor-info.sustained-clock-speed-in-ghz": func(t *ec2api.InstanceTypeInfo) []string {
		if t.ProcessorInfo.SustainedClockSpeedInGhz == nil {
			return nil
		}
		return []string{strconv.FormatFloat(*t.ProcessorInfo.SustainedClockSpeedInGhz, 'f', -1, 64)}
	},
	"processor-info.manufacturer":      func(t *ec2api.InstanceTypeInfo) []string { return one(t.ProcessorInfo.Manufacturer) },
	"ebs-info.ebs-optimized-support":   func(t *ec2api.InstanceTypeInfo) []string { return one(t.EbsInfo.EbsOptimizedSupport) },
	"ebs-info.encryption-support":      func(t *ec2api.InstanceTypeInfo) []string { return one(t.EbsInfo.EncryptionSupport) },
	"ebs-info.nvme-support":            func(t *ec2api.InstanceTypeInfo) []string { return one(t.EbsInfo.NvmeSupport) },
	"network-info.ena-support":         func(t *ec2api.InstanceTypeInfo) []string { return one(t.NetworkInfo.EnaSupport) },
	"network-info.network-performance": func(t *ec2api.InstanceTypeInfo) []string { return one(t.NetworkInfo.NetworkPerformance) },
	"network-info.maximum-network-interfaces": func(t *ec2api.InstanceTypeInfo) []string {
		return int64Field(t.NetworkInfo.MaximumNetworkInterfaces)
	},
	"network-info.ipv4-addresses-per-interface": func(t *ec2api.InstanceTypeInfo) []string {
		return int64Field(t.NetworkInfo.Ipv4AddressesPerInterface)
	},
	"network-info.ipv6-supported": func(t *ec2api.InstanceTypeInfo) []string { return boolField(t.NetworkInfo.Ipv6Supported) },
	"network-info.efa-supported":  func(t *ec2api.InstanceTypeInfo) []string { return boolField(t.NetworkInfo.EfaSupported) },
}

func noTags[T any](*T) []*ec2api.Tag { return nil }

func (s *Service) DescribeInstanceTypes(ctx context.Context, in *ec2api.DescribeInstanceTypesRequest) (*ec2api.DescribeInstanceTypesResult, error) {
	if err := checkMaxResults(in.MaxResults, 5, 100); err != nil {
		return nil, err
	}
	list := instanceTypes
	if len(in.InstanceTypes) > 0 {
		list = nil
		var missing []string
		for _, n := range in.InstanceTypes {
			if t, ok := instanceTypeIndex[deref(n)]; ok {
				list = append(list, t)
			} else {
				missing = append(missing, deref(n))
			}
		}
		if len(missing) > 0 {
			return nil, api.Errorf("InvalidInstanceType", "The following supplied instance types do not exist: [%s]", strings.Join(missing, ", "))
		}
		sort.Slice(list, func(i, j int) bool { return *list[i].InstanceType < *list[j].InstanceType })
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var matched []*ec2api.InstanceTypeInfo
	for _, t := range list {
		ok, err := matchFilters(in.Filters, t, noTags[ec2api.InstanceTypeInfo], instanceTypeFields)
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, t)
		}
	}
	page, next, err := paginate(matched, func(t *ec2api.InstanceTypeInfo) string { return *t.InstanceType }, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []*ec2api.InstanceTypeInfo{}
	}
	return &ec2api.DescribeInstanceTypesResult{InstanceTypes: page, NextToken: next}, nil
}

func (s *Service) DescribeInstanceTypeOfferings(ctx context.Context, in *ec2api.DescribeInstanceTypeOfferingsRequest) (*ec2api.DescribeInstanceTypeOfferingsResult, error) {
	if err := checkMaxResults(in.MaxResults, 5, 1000); err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	region := scopeOf(ctx).region
	lt := deref(in.LocationType)
	var locations []string
	switch lt {
	case "", "region":
		lt, locations = "region", []string{region}
	case "availability-zone", "availability-zone-id":
		for _, z := range zonesOf(region) {
			if lt == "availability-zone" {
				locations = append(locations, z.Name)
			} else {
				locations = append(locations, z.ID)
			}
		}
	default:
		return nil, invalidParameter("Value (%s) for parameter locationType is invalid. Valid values are region, availability-zone, availability-zone-id.", lt)
	}
	fs := fields[ec2api.InstanceTypeOffering]{
		"instance-type": func(o *ec2api.InstanceTypeOffering) []string { return one(o.InstanceType) },
		"location":      func(o *ec2api.InstanceTypeOffering) []string { return one(o.Location) },
	}
	var matched []*ec2api.InstanceTypeOffering
	for _, loc := range locations {
		for _, t := range instanceTypes {
			o := &ec2api.InstanceTypeOffering{InstanceType: t.InstanceType, Location: str(loc), LocationType: str(lt)}
			ok, err := matchFilters(in.Filters, o, noTags[ec2api.InstanceTypeOffering], fs)
			if err != nil {
				return nil, err
			}
			if ok {
				matched = append(matched, o)
			}
		}
	}
	key := func(o *ec2api.InstanceTypeOffering) string { return *o.Location + "\x00" + *o.InstanceType }
	page, next, err := paginate(matched, key, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []*ec2api.InstanceTypeOffering{}
	}
	return &ec2api.DescribeInstanceTypeOfferingsResult{InstanceTypeOfferings: page, NextToken: next}, nil
}

// checkMaxResults checks a MaxResults whose range differs from the common
// one paginate checks.
func checkMaxResults(n *int64, lo, hi int64) error {
	if n != nil && (*n < lo || *n > hi) {
		return invalidParameter("Value ( %d ) for parameter maxResults is invalid. Expecting a value between %d and %d.", *n, lo, hi)
	}
	return nil
}

// typeSizeOf returns the vCPUs and memory of a type, for instanceRecord.
func typeSizeOf(t *ec2api.InstanceTypeInfo) (vcpus, memMiB int64) {
	return *t.VCpuInfo.DefaultVCpus, *t.MemoryInfo.SizeInMiB
}

// cpuOptions is the CpuOptions an instance of type t shows.
func cpuOptions(t *ec2api.InstanceTypeInfo) *ec2api.CpuOptions {
	return &ec2api.CpuOptions{CoreCount: i64(*t.VCpuInfo.DefaultCores), ThreadsPerCore: i64(*t.VCpuInfo.DefaultThreadsPerCore)}
}
