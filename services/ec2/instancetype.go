package ec2

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
)

// The instance type catalogue: the common families and sizes with vCPUs
// and memory as AWS documents them. It is computed once and read-only.

// typeFamily is what the sizes of one family share.
type typeFamily struct {
	name         string
	arch         string // x86_64 or arm64
	hypervisor   string // xen or nitro
	manufacturer string
	clockGHz     float64
	burstable    bool
	current      bool
	threads      int64 // threads per core
	sizes        []typeSize
}

type typeSize struct {
	name   string
	vcpus  int64
	memMiB int64
}

// ratioSizes returns the sizes of a family with a fixed memory ratio (GiB
// per vCPU), by size name.
func ratioSizes(gibPerVCPU int64, names ...string) []typeSize {
	vcpus := map[string]int64{
		"medium": 1, "large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "9xlarge": 36,
		"12xlarge": 48, "16xlarge": 64, "18xlarge": 72, "24xlarge": 96, "32xlarge": 128,
	}
	var out []typeSize
	for _, n := range names {
		v := vcpus[n]
		out = append(out, typeSize{n, v, v * gibPerVCPU * 1024})
	}
	return out
}

// burstableSizes are the t3/t3a/t4g sizes (t2 differs only below medium).
var burstableSizes = []typeSize{
	{"nano", 2, 512}, {"micro", 2, 1024}, {"small", 2, 2048}, {"medium", 2, 4096},
	{"large", 2, 8192}, {"xlarge", 4, 16384}, {"2xlarge", 8, 32768},
}

var typeFamilies = []typeFamily{
	{name: "m1", arch: "x86_64", hypervisor: "xen", manufacturer: "Intel", clockGHz: 2.0, threads: 1,
		sizes: []typeSize{{"small", 1, 1740}, {"medium", 1, 3788}, {"large", 2, 7680}, {"xlarge", 4, 15360}}},
	{name: "t2", arch: "x86_64", hypervisor: "xen", manufacturer: "Intel", clockGHz: 2.5, burstable: true, current: true, threads: 1,
		sizes: []typeSize{{"nano", 1, 512}, {"micro", 1, 1024}, {"small", 1, 2048}, {"medium", 2, 4096}, {"large", 2, 8192}, {"xlarge", 4, 16384}, {"2xlarge", 8, 32768}}},
	{name: "t3", arch: "x86_64", hypervisor: "nitro", manufacturer: "Intel", clockGHz: 2.5, burstable: true, current: true, threads: 2, sizes: burstableSizes},
	{name: "t3a", arch: "x86_64", hypervisor: "nitro", manufacturer: "AMD", clockGHz: 2.2, burstable: true, current: true, threads: 2, sizes: burstableSizes},
	{name: "t4g", arch: "arm64", hypervisor: "nitro", manufacturer: "AWS", clockGHz: 2.5, burstable: true, current: true, threads: 1, sizes: burstableSizes},
	{name: "m5", arch: "x86_64", hypervisor: "nitro", manufacturer: "Intel", clockGHz: 3.1, current: true, threads: 2,
		sizes: ratioSizes(4, "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")},
	{name: "m6i", arch: "x86_64", hypervisor: "nitro", manufacturer: "Intel", clockGHz: 3.5, current: true, threads: 2,
		sizes: ratioSizes(4, "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge")},
	{name: "m6g", arch: "arm64", hypervisor: "nitro", manufacturer: "AWS", clockGHz: 2.5, current: true, threads: 1,
		sizes: ratioSizes(4, "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")},
	{name: "c5", arch: "x86_64", hypervisor: "nitro", manufacturer: "Intel", clockGHz: 3.4, current: true, threads: 2,
		sizes: ratioSizes(2, "large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge")},
	{name: "c6i", arch: "x86_64", hypervisor: "nitro", manufacturer: "Intel", clockGHz: 3.5, current: true, threads: 2,
		sizes: ratioSizes(2, "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge")},
	{name: "c6g", arch: "arm64", hypervisor: "nitro", manufacturer: "AWS", clockGHz: 2.5, current: true, threads: 1,
		sizes: ratioSizes(2, "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")},
	{name: "r5", arch: "x86_64", hypervisor: "nitro", manufacturer: "Intel", clockGHz: 3.1, current: true, threads: 2,
		sizes: ratioSizes(8, "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge")},
	{name: "r6g", arch: "arm64", hypervisor: "nitro", manufacturer: "AWS", clockGHz: 2.5, current: true, threads: 1,
		sizes: ratioSizes(8, "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")},
}

// freeTier lists the types of the AWS Free Tier.
var freeTier = map[string]bool{"t2.micro": true, "t3.micro": true}

// instanceTypes is the catalogue, sorted by name; instanceTypeIndex finds
// an entry by name.
var instanceTypes, instanceTypeIndex = buildInstanceTypes()

func buildInstanceTypes() ([]*ec2api.InstanceTypeInfo, map[string]*ec2api.InstanceTypeInfo) {
	var all []*ec2api.InstanceTypeInfo
	index := map[string]*ec2api.InstanceTypeInfo{}
	for _, f := range typeFamilies {
		for _, sz := range f.sizes {
			t := newInstanceTypeInfo(f, sz)
			all = append(all, t)
			index[*t.InstanceType] = t
		}
	}
	sort.Slice(all, func(i, j int) bool { return *all[i].InstanceType < *all[j].InstanceType })
	return all, index
}

func newInstanceTypeInfo(f typeFamily, sz typeSize) *ec2api.InstanceTypeInfo {
	name := f.name + "." + sz.name
	enis, ips := networkLimits(sz.name, f.burstable)
	threads := f.threads
	if sz.vcpus%threads != 0 {
		threads = 1
	}
	cores := sz.vcpus / threads
	var validCores []*int64
	for c := int64(1); c <= cores; c++ {
		validCores = append(validCores, i64(c))
	}
	validThreads := []*int64{i64(1)}
	if threads == 2 {
		validThreads = append(validThreads, i64(2))
	}
	arch := []*string{str(f.arch)}
	if f.name == "m1" || f.name == "t2" && sz.vcpus == 1 {
		arch = []*string{str("i386"), str("x86_64")}
	}
	bootModes := []*string{str("legacy-bios"), str("uefi")}
	if f.arch == "arm64" {
		bootModes = []*string{str("uefi")}
	}
	ena, nvme, ebsOpt := "supported", "supported", "default"
	if f.hypervisor == "xen" {
		nvme, ebsOpt = "unsupported", "unsupported"
		if f.name == "m1" {
			ena = "unsupported"
		}
	}
	return &ec2api.InstanceTypeInfo{
		InstanceType:                  str(name),
		CurrentGeneration:             boolp(f.current),
		FreeTierEligible:              boolp(freeTier[name]),
		SupportedUsageClasses:         []*string{str("on-demand"), str("spot")},
		SupportedRootDeviceTypes:      []*string{str("ebs")},
		SupportedVirtualizationTypes:  []*string{str("hvm")},
		SupportedBootModes:            bootModes,
		BareMetal:                     boolp(sz.name == "metal"),
		Hypervisor:                    str(f.hypervisor),
		ProcessorInfo:                 &ec2api.ProcessorInfo{SupportedArchitectures: arch, SustainedClockSpeedInGhz: &f.clockGHz, Manufacturer: str(f.manufacturer)},
		VCpuInfo:                      &ec2api.VCpuInfo{DefaultVCpus: i64(sz.vcpus), DefaultCores: i64(cores), DefaultThreadsPerCore: i64(threads), ValidCores: validCores, ValidThreadsPerCore: validThreads},
		MemoryInfo:                    &ec2api.MemoryInfo{SizeInMiB: i64(sz.memMiB)},
		InstanceStorageSupported:      boolp(false),
		EbsInfo:                       &ec2api.EbsInfo{EbsOptimizedSupport: str(ebsOpt), EncryptionSupport: str("supported"), NvmeSupport: str(nvme)},
		NetworkInfo:                   networkInfo(f, sz, enis, ips, ena),
		PlacementGroupInfo:            &ec2api.PlacementGroupInfo{SupportedStrategies: []*string{str("cluster"), str("partition"), str("spread")}},
		HibernationSupported:          boolp(f.arch == "x86_64" && f.current),
		BurstablePerformanceSupported: boolp(f.burstable),
		DedicatedHostsSupported:       boolp(!f.burstable),
		AutoRecoverySupported:         boolp(true),
	}
}

func networkInfo(f typeFamily, sz typeSize, enis, ips int64, ena string) *ec2api.NetworkInfo {
	perf := networkPerformance(f, sz)
	return &ec2api.NetworkInfo{
		NetworkPerformance:           str(perf),
		MaximumNetworkInterfaces:     i64(enis),
		MaximumNetworkCards:          i64(1),
		DefaultNetworkCardIndex:      i64(0),
		NetworkCards:                 []*ec2api.NetworkCardInfo{{NetworkCardIndex: i64(0), NetworkPerformance: str(perf), MaximumNetworkInterfaces: i64(enis)}},
		Ipv4AddressesPerInterface:    i64(ips),
		Ipv6AddressesPerInterface:    i64(ips),
		Ipv6Supported:                boolp(f.name != "m1"),
		EnaSupport:                   str(ena),
		EfaSupported:                 boolp(false),
		EncryptionInTransitSupported: boolp(false),
		EnaSrdSupported:              boolp(false),
	}
}

// networkLimits returns the interfaces per instance and IPv4 addresses per
// interface of a size, as AWS's table gives them.
func networkLimits(size string, burstable bool) (enis, ips int64) {
	switch size {
	case "nano", "micro":
		return 2, 2
	case "small":
		return 3, 4
	case "medium":
		return 3, 6
	case "large":
		if burstable {
			return 3, 12
		}
		return 3, 10
	case "xlarge", "2xlarge":
		if burstable {
			return 3, 15
		}
		return 4, 15
	case "4xlarge", "8xlarge", "9xlarge", "12xlarge":
		return 8, 30
	}
	return 15, 50
}

func networkPerformance(f typeFamily, sz typeSize) string {
	switch {
	case f.name == "m1" || f.name == "t2" && sz.vcpus == 1:
		return "Low to Moderate"
	case f.name == "t2":
		return "Moderate"
	case f.burstable:
		return "Up to 5 Gigabit"
	case sz.vcpus <= 16:
		return "Up to 10 Gigabit"
	case sz.vcpus <= 48:
		return "12.5 Gigabit"
	case sz.vcpus <= 72:
		return "25 Gigabit"
	}
	return "50 Gigabit"
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
