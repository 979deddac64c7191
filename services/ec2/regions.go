package ec2

import (
	"context"
	"fmt"
	"strings"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
)

// regions are the commercial regions DescribeRegions lists, with their
// number of availability zones. A client may name any other region; it
// gets three zones.
var regions = []struct {
	name  string
	zones int
}{
	{"af-south-1", 3}, {"ap-east-1", 3}, {"ap-northeast-1", 3}, {"ap-northeast-2", 4},
	{"ap-northeast-3", 3}, {"ap-south-1", 3}, {"ap-southeast-1", 3}, {"ap-southeast-2", 3},
	{"ca-central-1", 3}, {"eu-central-1", 3}, {"eu-north-1", 3}, {"eu-south-1", 3},
	{"eu-west-1", 3}, {"eu-west-2", 3}, {"eu-west-3", 3}, {"me-south-1", 3},
	{"sa-east-1", 3}, {"us-east-1", 6}, {"us-east-2", 3}, {"us-west-1", 2}, {"us-west-2", 4},
}

// zone is one availability zone.
type zone struct {
	Name, ID string
}

// zonesOf returns the availability zones of a region: a, b, c... with ids
// in AWS's form (apne2-az1).
func zonesOf(region string) []zone {
	n := 3
	for _, r := range regions {
		if r.name == region {
			n = r.zones
		}
	}
	zs := make([]zone, n)
	for i := range zs {
		zs[i] = zone{Name: region + string(rune('a'+i)), ID: fmt.Sprintf("%s-az%d", regionCode(region), i+1)}
	}
	return zs
}

// regionCode abbreviates a region as AZ ids do: ap-northeast-2 -> apne2.
func regionCode(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) < 3 {
		return region
	}
	dir := parts[len(parts)-2]
	var d string
	for _, w := range []string{"north", "south", "east", "west", "central"} {
		if strings.HasPrefix(dir, w) {
			d += w[:1]
			dir = dir[len(w):]
		}
	}
	for _, w := range []string{"east", "west"} {
		if dir == w {
			d += w[:1]
		}
	}
	return strings.Join(parts[:len(parts)-2], "") + d + parts[len(parts)-1]
}

// zoneByName returns the zone of region with that name, if any.
func zoneByName(region, name string) (zone, bool) {
	for _, z := range zonesOf(region) {
		if z.Name == name || z.ID == name {
			return z, true
		}
	}
	return zone{}, false
}

func (s *Service) registerRegions(h *ec2api.Handlers) {
	h.DescribeRegions = s.DescribeRegions
	h.DescribeAvailabilityZones = s.DescribeAvailabilityZones
}

func (s *Service) DescribeRegions(ctx context.Context, in *ec2api.DescribeRegionsRequest) (*ec2api.DescribeRegionsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var all []*ec2api.Region
	for _, r := range regions {
		all = append(all, &ec2api.Region{RegionName: str(r.name), Endpoint: str("ec2." + r.name + ".amazonaws.com"), OptInStatus: str("opt-in-not-required")})
	}
	fs := fields[ec2api.Region]{
		"region-name":   func(r *ec2api.Region) []string { return one(r.RegionName) },
		"endpoint":      func(r *ec2api.Region) []string { return one(r.Endpoint) },
		"opt-in-status": func(r *ec2api.Region) []string { return one(r.OptInStatus) },
	}
	out := &ec2api.DescribeRegionsResult{}
	for _, r := range all {
		if len(in.RegionNames) > 0 && !anyMatch(in.RegionNames, []string{*r.RegionName}) {
			continue
		}
		ok, err := matchFilters(in.Filters, r, func(*ec2api.Region) []*ec2api.Tag { return nil }, fs)
		if err != nil {
			return nil, err
		}
		if ok {
			out.Regions = append(out.Regions, r)
		}
	}
	return out, nil
}

func (s *Service) DescribeAvailabilityZones(ctx context.Context, in *ec2api.DescribeAvailabilityZonesRequest) (*ec2api.DescribeAvailabilityZonesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	region := scopeOf(ctx).region
	fs := fields[ec2api.AvailabilityZone]{
		"zone-name":            func(z *ec2api.AvailabilityZone) []string { return one(z.ZoneName) },
		"zone-id":              func(z *ec2api.AvailabilityZone) []string { return one(z.ZoneId) },
		"region-name":          func(z *ec2api.AvailabilityZone) []string { return one(z.RegionName) },
		"state":                func(z *ec2api.AvailabilityZone) []string { return one(z.State) },
		"zone-type":            func(z *ec2api.AvailabilityZone) []string { return one(z.ZoneType) },
		"group-name":           func(z *ec2api.AvailabilityZone) []string { return one(z.GroupName) },
		"opt-in-status":        func(z *ec2api.AvailabilityZone) []string { return one(z.OptInStatus) },
		"network-border-group": func(z *ec2api.AvailabilityZone) []string { return one(z.NetworkBorderGroup) },
	}
	out := &ec2api.DescribeAvailabilityZonesResult{}
	for _, z := range zonesOf(region) {
		az := &ec2api.AvailabilityZone{
			ZoneName: str(z.Name), ZoneId: str(z.ID), RegionName: str(region), State: str("available"),
			ZoneType: str("availability-zone"), GroupName: str(region), NetworkBorderGroup: str(region),
			OptInStatus: str("opt-in-not-required"), Messages: []*ec2api.AvailabilityZoneMessage{},
		}
		if len(in.ZoneNames) > 0 && !anyMatch(in.ZoneNames, []string{z.Name}) {
			continue
		}
		if len(in.ZoneIds) > 0 && !anyMatch(in.ZoneIds, []string{z.ID}) {
			continue
		}
		ok, err := matchFilters(in.Filters, az, func(*ec2api.AvailabilityZone) []*ec2api.Tag { return nil }, fs)
		if err != nil {
			return nil, err
		}
		if ok {
			out.AvailabilityZones = append(out.AvailabilityZones, az)
		}
	}
	return out, nil
}
