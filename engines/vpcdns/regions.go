package vpcdns

import "math"

// place is where an AWS region is, for the routing policies that answer
// by the asker's location: latency (the nearest region stands in for the
// lowest latency, which Route 53 measures and cloudbox cannot) and
// geolocation (Route 53 places a query from a VPC in its region).
type place struct {
	lat, lon    float64
	continent   string // Route 53's continent code
	country     string // ISO 3166-1 alpha-2
	subdivision string // US states only, as Route 53 has them
}

// regions are the regions Route 53 knows for latency records, at their
// metropolitan areas.
var regions = map[string]place{
	"us-east-1":      {38.9, -77.4, "NA", "US", "VA"},
	"us-east-2":      {40.0, -83.0, "NA", "US", "OH"},
	"us-west-1":      {37.4, -122.0, "NA", "US", "CA"},
	"us-west-2":      {45.8, -119.7, "NA", "US", "OR"},
	"us-gov-east-1":  {40.0, -83.0, "NA", "US", "OH"},
	"us-gov-west-1":  {45.8, -119.7, "NA", "US", "OR"},
	"ca-central-1":   {45.5, -73.6, "NA", "CA", ""},
	"ca-west-1":      {51.0, -114.1, "NA", "CA", ""},
	"mx-central-1":   {20.6, -100.4, "NA", "MX", ""},
	"sa-east-1":      {-23.5, -46.6, "SA", "BR", ""},
	"eu-west-1":      {53.3, -6.3, "EU", "IE", ""},
	"eu-west-2":      {51.5, -0.1, "EU", "GB", ""},
	"eu-west-3":      {48.9, 2.4, "EU", "FR", ""},
	"eu-central-1":   {50.1, 8.7, "EU", "DE", ""},
	"eu-central-2":   {47.4, 8.5, "EU", "CH", ""},
	"eu-north-1":     {59.3, 18.1, "EU", "SE", ""},
	"eu-south-1":     {45.5, 9.2, "EU", "IT", ""},
	"eu-south-2":     {41.6, -0.9, "EU", "ES", ""},
	"il-central-1":   {32.1, 34.8, "AS", "IL", ""},
	"me-south-1":     {26.1, 50.6, "AS", "BH", ""},
	"me-central-1":   {25.2, 55.3, "AS", "AE", ""},
	"af-south-1":     {-33.9, 18.4, "AF", "ZA", ""},
	"ap-east-1":      {22.3, 114.2, "AS", "HK", ""},
	"ap-south-1":     {19.1, 72.9, "AS", "IN", ""},
	"ap-south-2":     {17.4, 78.5, "AS", "IN", ""},
	"ap-northeast-1": {35.7, 139.7, "AS", "JP", ""},
	"ap-northeast-2": {37.6, 127.0, "AS", "KR", ""},
	"ap-northeast-3": {34.7, 135.5, "AS", "JP", ""},
	"ap-southeast-1": {1.35, 103.8, "AS", "SG", ""},
	"ap-southeast-2": {-33.9, 151.2, "OC", "AU", ""},
	"ap-southeast-3": {-6.2, 106.8, "AS", "ID", ""},
	"ap-southeast-4": {-37.8, 145.0, "OC", "AU", ""},
	"ap-southeast-5": {3.1, 101.7, "AS", "MY", ""},
	"ap-southeast-7": {13.8, 100.5, "AS", "TH", ""},
	"cn-north-1":     {39.9, 116.4, "AS", "CN", ""},
	"cn-northwest-1": {38.5, 106.3, "AS", "CN", ""},
}

// internetRegion is where the simulated internet's resolver is taken to
// be for latency records (a query from outside every VPC).
const internetRegion = "us-east-1"

// distance is the great-circle distance between two regions, in
// kilometres; an unknown region is as far as can be.
func distance(a, b string) float64 {
	pa, okA := regions[a]
	pb, okB := regions[b]
	if !okA || !okB {
		return math.Inf(1)
	}
	const r = 6371
	rad := math.Pi / 180
	dLat, dLon := (pb.lat-pa.lat)*rad, (pb.lon-pa.lon)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(pa.lat*rad)*math.Cos(pb.lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Sqrt(h))
}

// locations are the geolocation record names that cover a query from
// region, most specific first, ending with the default "*": a US
// state ("US-VA"), the country, the continent ("continent:NA"). From
// outside every region (the internet) only the default covers it.
func locations(region string) []string {
	p, ok := regions[region]
	if !ok {
		return []string{"*"}
	}
	var out []string
	if p.subdivision != "" {
		out = append(out, p.country+"-"+p.subdivision)
	}
	return append(out, p.country, "continent:"+p.continent, "*")
}
