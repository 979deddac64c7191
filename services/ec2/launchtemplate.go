package ec2

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// convert copies src into dst member by member, through JSON. The launch
// template data shapes (request, response) and RunInstancesRequest share
// their member names and structure, so this is the one mapping between
// them.
func convert(dst, src any) error {
	b, err := json.Marshal(src)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

func clone[T any](v *T) (*T, error) {
	out := new(T)
	return out, convert(out, v)
}

const maxTemplateVersions = 10000

var templateNameRE = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)

// findLaunchTemplate returns the caller's template by id or by name
// (exactly one of them).
func findLaunchTemplate(tx *store.Tx, sc scope, id, name *string) (*launchTemplateRecord, error) {
	switch {
	case id == nil && name == nil:
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter launchTemplateName or launchTemplateId")
	case id != nil && name != nil:
		return nil, api.Errorf("InvalidParameterCombination", "You can specify either the launch template ID or the launch template name in the request, but not both.")
	case id != nil:
		if err := kindLaunchTpl.checkID(*id); err != nil {
			return nil, err
		}
		lt, ok, err := store.Get[launchTemplateRecord](tx, sc.key(kindLaunchTpl, *id))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, api.Errorf("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", *id)
		}
		return lt, nil
	}
	lt, err := templateByName(tx, sc, *name)
	if err != nil {
		return nil, err
	}
	if lt == nil {
		return nil, api.Errorf("InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", *name)
	}
	return lt, nil
}

func templateByName(tx *store.Tx, sc scope, name string) (*launchTemplateRecord, error) {
	all, err := listAll[launchTemplateRecord](tx, sc, kindLaunchTpl)
	if err != nil {
		return nil, err
	}
	for _, lt := range all {
		if deref(lt.LaunchTemplateName) == name {
			return lt, nil
		}
	}
	return nil, nil
}

// versionNumber resolves a version as requests name it: a number,
// $Latest or $Default ("" is $Default).
func (lt *launchTemplateRecord) versionNumber(v string) (int64, error) {
	switch v {
	case "", "$Default":
		return *lt.DefaultVersionNumber, nil
	case "$Latest":
		return *lt.LatestVersionNumber, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, api.Errorf("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for launch template %s.", v, *lt.LaunchTemplateId)
	}
	return n, nil
}

func (lt *launchTemplateRecord) version(v string) (*ec2api.LaunchTemplateVersion, error) {
	n, err := lt.versionNumber(v)
	if err != nil {
		return nil, err
	}
	for _, ver := range lt.Versions {
		if *ver.VersionNumber == n {
			return ver, nil
		}
	}
	return nil, api.Errorf("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %d for launch template %s.", n, *lt.LaunchTemplateId)
}

// applyLaunchTemplate returns the RunInstances request with the launch
// template's data filling what the request leaves unset (member by member,
// at the top level, as AWS merges), and the tags AWS puts on instances
// launched from a template.
func applyLaunchTemplate(tx *store.Tx, sc scope, in *ec2api.RunInstancesRequest) (*ec2api.RunInstancesRequest, []*ec2api.Tag, error) {
	spec := in.LaunchTemplate
	if spec == nil {
		return in, nil, nil
	}
	lt, err := findLaunchTemplate(tx, sc, spec.LaunchTemplateId, spec.LaunchTemplateName)
	if err != nil {
		return nil, nil, err
	}
	v, err := lt.version(deref(spec.Version))
	if err != nil {
		return nil, nil, err
	}
	var req, data map[string]json.RawMessage
	if err := convert(&req, in); err != nil {
		return nil, nil, err
	}
	if err := convert(&data, v.LaunchTemplateData); err != nil {
		return nil, nil, err
	}
	for k, val := range data {
		if have, ok := req[k]; !ok || string(have) == "null" {
			req[k] = val
		}
	}
	out := &ec2api.RunInstancesRequest{}
	if err := convert(out, req); err != nil {
		return nil, nil, err
	}
	tags := []*ec2api.Tag{
		{Key: str("aws:ec2launchtemplate:id"), Value: lt.LaunchTemplateId},
		{Key: str("aws:ec2launchtemplate:version"), Value: str(strconv.FormatInt(*v.VersionNumber, 10))},
	}
	return out, tags, nil
}

// checkTemplateData validates launch template data as RunInstances would
// where it can without the rest of a request. As on AWS, parameters are
// "not fully validated" at creation: an image, type, key, group, subnet or
// interface that cannot be found is a warning in the response (the
// launch fails later), while malformed values are errors.
func (s *Service) checkTemplateData(tx *store.Tx, sc scope, d *ec2api.RequestLaunchTemplateData) (*ec2api.ValidationWarning, error) {
	var warning *ec2api.ValidationWarning
	// missing turns a not-found error into a warning.
	missing := func(err error) error {
		var ae *api.Error
		if errors.As(err, &ae) && strings.HasSuffix(ae.Code, ".NotFound") {
			if warning == nil {
				warning = &ec2api.ValidationWarning{}
			}
			warning.Errors = append(warning.Errors, &ec2api.ValidationError{Code: str(ae.Code), Message: str(ae.Message)})
			return nil
		}
		return err
	}
	var img *ec2api.Image
	// An SSM parameter is resolved at launch, as on AWS.
	if id := deref(d.ImageId); id != "" && !strings.HasPrefix(id, ssmPrefix) {
		var err error
		if img, err = s.launchImage(tx, sc, id); missing(err) != nil {
			return nil, err
		}
	}
	if d.InstanceType != nil {
		t, err := lookupInstanceType(*d.InstanceType)
		if err != nil {
			return nil, err
		}
		if img != nil {
			if err := checkArch(t, img); err != nil {
				return nil, err
			}
		}
	}
	if d.KeyName != nil {
		if _, err := findKeyPair(tx, sc, *d.KeyName); missing(err) != nil {
			return nil, err
		}
	}
	if _, err := checkUserData(d.UserData); err != nil {
		return nil, err
	}
	groups := d.SecurityGroupIds
	for _, ni := range d.NetworkInterfaces {
		groups = append(groups, ni.Groups...)
		if ni.SubnetId != nil {
			if _, err := load[subnetRecord](tx, sc, kindSubnet, *ni.SubnetId); missing(err) != nil {
				return nil, err
			}
		}
		if ni.NetworkInterfaceId != nil {
			if _, err := load[networkInterfaceRecord](tx, sc, kindENI, *ni.NetworkInterfaceId); missing(err) != nil {
				return nil, err
			}
		}
	}
	for _, g := range groups {
		if _, err := load[securityGroupRecord](tx, sc, kindSG, deref(g)); missing(err) != nil {
			return nil, err
		}
	}
	if len(d.SecurityGroups) > 0 {
		all, err := listAll[securityGroupRecord](tx, sc, kindSG)
		if err != nil {
			return nil, err
		}
		for _, n := range d.SecurityGroups {
			if slices.IndexFunc(all, func(g *securityGroupRecord) bool { return deref(g.GroupName) == deref(n) }) < 0 {
				missing(api.Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", deref(n)))
			}
		}
	}
	var run ec2api.RunInstancesRequest
	if err := convert(&run, d); err != nil {
		return nil, err
	}
	if _, err := instanceProfile(sc, run.IamInstanceProfile); err != nil {
		return nil, err
	}
	if run.MetadataOptions != nil {
		if _, err := metadataOptions(run.MetadataOptions, &ec2api.Image{}); err != nil {
			return nil, err
		}
	}
	if b := deref(d.InstanceInitiatedShutdownBehavior); b != "" && b != "stop" && b != "terminate" {
		return nil, invalidParameter("Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are stop, terminate.", b)
	}
	if _, err := tagsFor(run.TagSpecifications, "instance", "volume", "network-interface", "spot-instances-request", "elastic-gpu"); err != nil {
		return nil, err
	}
	if img != nil {
		if _, err := mergeBlockDevices(img.BlockDeviceMappings, run.BlockDeviceMappings); err != nil {
			return nil, err
		}
	}
	return warning, nil
}

// templateVersion makes a version from request data.
func templateVersion(lt *launchTemplateRecord, n int64, d *ec2api.RequestLaunchTemplateData, desc *string, by string, now time.Time) (*ec2api.LaunchTemplateVersion, error) {
	data := &ec2api.ResponseLaunchTemplateData{}
	if d != nil {
		if err := convert(data, d); err != nil {
			return nil, err
		}
	}
	return &ec2api.LaunchTemplateVersion{
		CreateTime:         timep(now),
		CreatedBy:          str(by),
		DefaultVersion:     boolp(false),
		LaunchTemplateData: data,
		LaunchTemplateId:   lt.LaunchTemplateId,
		LaunchTemplateName: lt.LaunchTemplateName,
		VersionDescription: desc,
		VersionNumber:      i64(n),
	}, nil
}

// creator is the ARN AWS records as a template's CreatedBy.
func creator(ctx context.Context, sc scope) string {
	if a := api.RequestFrom(ctx).Caller.ARN; a != "" {
		return a
	}
	return "arn:aws:iam::" + sc.account + ":root"
}

func checkVersionDescription(d *string) error {
	if len(deref(d)) > 255 {
		return invalidParameter("Value for parameter versionDescription is invalid. The description must be at most 255 characters.")
	}
	return nil
}

func (s *Service) CreateLaunchTemplate(ctx context.Context, in *ec2api.CreateLaunchTemplateRequest) (*ec2api.CreateLaunchTemplateResult, error) {
	sc := scopeOf(ctx)
	name := deref(in.LaunchTemplateName)
	if !templateNameRE.MatchString(name) {
		return nil, api.Errorf("InvalidLaunchTemplateName.MalformedException", "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'")
	}
	if err := checkVersionDescription(in.VersionDescription); err != nil {
		return nil, err
	}
	tags, err := tagsFor(in.TagSpecifications, "launch-template")
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []*ec2api.Tag{}
	}
	now := s.now().UTC()
	var warning *ec2api.ValidationWarning
	lt, err := create(s, sc, creation[launchTemplateRecord]{
		op: "CreateLaunchTemplate", token: in.ClientToken, req: in,
		made: func(tx *store.Tx, id string) (*launchTemplateRecord, error) {
			return load[launchTemplateRecord](tx, sc, kindLaunchTpl, id)
		},
		make: func(tx *store.Tx) (*launchTemplateRecord, string, error) {
			if have, err := templateByName(tx, sc, name); err != nil || have != nil {
				if err == nil {
					err = api.Errorf("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
				}
				return nil, "", err
			}
			if in.LaunchTemplateData == nil {
				return nil, "", api.Errorf("MissingParameter", "The request must contain the parameter LaunchTemplateData")
			}
			w, err := s.checkTemplateData(tx, sc, in.LaunchTemplateData)
			if err != nil {
				return nil, "", err
			}
			warning = w
			if err := dryRun(in.DryRun); err != nil {
				return nil, "", err
			}
			by := creator(ctx, sc)
			lt := &launchTemplateRecord{LaunchTemplate: ec2api.LaunchTemplate{
				LaunchTemplateId:     str(kindLaunchTpl.newID()),
				LaunchTemplateName:   str(name),
				CreateTime:           timep(now),
				CreatedBy:            str(by),
				DefaultVersionNumber: i64(1),
				LatestVersionNumber:  i64(1),
				Tags:                 tags,
			}}
			v, err := templateVersion(lt, 1, in.LaunchTemplateData, in.VersionDescription, by, now)
			if err != nil {
				return nil, "", err
			}
			v.DefaultVersion = boolp(true)
			lt.Versions = []*ec2api.LaunchTemplateVersion{v}
			return lt, *lt.LaunchTemplateId, save(tx, sc, kindLaunchTpl, *lt.LaunchTemplateId, lt)
		},
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateLaunchTemplateResult{LaunchTemplate: &lt.LaunchTemplate, Warning: warning}, nil
}

func (s *Service) CreateLaunchTemplateVersion(ctx context.Context, in *ec2api.CreateLaunchTemplateVersionRequest) (*ec2api.CreateLaunchTemplateVersionResult, error) {
	sc := scopeOf(ctx)
	if err := checkVersionDescription(in.VersionDescription); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var lt *launchTemplateRecord
	var warning *ec2api.ValidationWarning
	var token string // a token is the template's own
	v, err := create(s, sc, creation[ec2api.LaunchTemplateVersion]{
		op: "CreateLaunchTemplateVersion", token: &token, req: in,
		first: func(tx *store.Tx) (err error) {
			if lt, err = findLaunchTemplate(tx, sc, in.LaunchTemplateId, in.LaunchTemplateName); err != nil {
				return err
			}
			if deref(in.ClientToken) != "" {
				token = *lt.LaunchTemplateId + "/" + *in.ClientToken
			}
			return nil
		},
		made: func(tx *store.Tx, n string) (*ec2api.LaunchTemplateVersion, error) {
			return lt.version(n)
		},
		make: func(tx *store.Tx) (*ec2api.LaunchTemplateVersion, string, error) {
			if in.LaunchTemplateData == nil {
				return nil, "", api.Errorf("MissingParameter", "The request must contain the parameter LaunchTemplateData")
			}
			data, err := mergedVersionData(lt, in)
			if err != nil {
				return nil, "", err
			}
			w, err := s.checkTemplateData(tx, sc, data)
			if err != nil {
				return nil, "", err
			}
			warning = w
			if len(lt.Versions) >= maxTemplateVersions {
				return nil, "", api.Errorf("VersionLimitExceeded", "The launch template %s has reached its limit of %d versions.", *lt.LaunchTemplateId, maxTemplateVersions)
			}
			if err := dryRun(in.DryRun); err != nil {
				return nil, "", err
			}
			n := *lt.LatestVersionNumber + 1
			v, err := templateVersion(lt, n, data, in.VersionDescription, creator(ctx, sc), now)
			if err != nil {
				return nil, "", err
			}
			lt.Versions = append(lt.Versions, v)
			lt.LatestVersionNumber = i64(n)
			return v, strconv.FormatInt(n, 10), save(tx, sc, kindLaunchTpl, *lt.LaunchTemplateId, lt)
		},
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateLaunchTemplateVersionResult{LaunchTemplateVersion: v, Warning: warning}, nil
}

// mergedVersionData is a new version's data: the request's, over its source
// version's when it names one.
func mergedVersionData(lt *launchTemplateRecord, in *ec2api.CreateLaunchTemplateVersionRequest) (*ec2api.RequestLaunchTemplateData, error) {
	data := in.LaunchTemplateData
	if in.SourceVersion == nil {
		return data, nil
	}
	src, err := lt.version(*in.SourceVersion)
	if err != nil {
		return nil, err
	}
	var base, over map[string]json.RawMessage
	if err := convert(&base, src.LaunchTemplateData); err != nil {
		return nil, err
	}
	if err := convert(&over, data); err != nil {
		return nil, err
	}
	for k, val := range over {
		if string(val) != "null" {
			base[k] = val
		}
	}
	data = &ec2api.RequestLaunchTemplateData{}
	return data, convert(data, base)
}

func (s *Service) ModifyLaunchTemplate(ctx context.Context, in *ec2api.ModifyLaunchTemplateRequest) (*ec2api.ModifyLaunchTemplateResult, error) {
	sc := scopeOf(ctx)
	var lt *launchTemplateRecord
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if lt, err = findLaunchTemplate(tx, sc, in.LaunchTemplateId, in.LaunchTemplateName); err != nil {
			return err
		}
		var def *ec2api.LaunchTemplateVersion
		if in.DefaultVersion != nil {
			if def, err = lt.version(*in.DefaultVersion); err != nil {
				return err
			}
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		if def == nil {
			return nil
		}
		for _, v := range lt.Versions {
			v.DefaultVersion = boolp(v == def)
		}
		lt.DefaultVersionNumber = def.VersionNumber
		return save(tx, sc, kindLaunchTpl, *lt.LaunchTemplateId, lt)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyLaunchTemplateResult{LaunchTemplate: &lt.LaunchTemplate}, nil
}

var templateFields = fields[launchTemplateRecord]{
	"launch-template-name": func(lt *launchTemplateRecord) []string { return one(lt.LaunchTemplateName) },
	"create-time":          func(lt *launchTemplateRecord) []string { return timeField(lt.CreateTime) },
}

func (s *Service) DescribeLaunchTemplates(ctx context.Context, in *ec2api.DescribeLaunchTemplatesRequest) (*ec2api.DescribeLaunchTemplatesResult, error) {
	sc := scopeOf(ctx)
	if err := checkMaxResults(in.MaxResults, 1, 200); err != nil {
		return nil, err
	}
	if len(in.LaunchTemplateIds)+len(in.LaunchTemplateNames) > 0 && in.MaxResults != nil {
		return nil, api.Errorf("InvalidParameterCombination", "The parameter launchTemplateIds or launchTemplateNames cannot be used with the parameter maxResults")
	}
	var all []*launchTemplateRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		all, err = listAll[launchTemplateRecord](tx, sc, kindLaunchTpl)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(in.LaunchTemplateIds) > 0 {
		byID := map[string]*launchTemplateRecord{}
		for _, lt := range all {
			byID[*lt.LaunchTemplateId] = lt
		}
		all = nil
		for _, id := range in.LaunchTemplateIds {
			if err := kindLaunchTpl.checkID(deref(id)); err != nil {
				return nil, err
			}
			lt, ok := byID[deref(id)]
			if !ok {
				return nil, api.Errorf("InvalidLaunchTemplateId.NotFound", "At least one of the launch templates specified in the request does not exist.")
			}
			all = append(all, lt)
		}
	}
	if len(in.LaunchTemplateNames) > 0 {
		var named []*launchTemplateRecord
		for _, n := range in.LaunchTemplateNames {
			i := slices.IndexFunc(all, func(lt *launchTemplateRecord) bool { return deref(lt.LaunchTemplateName) == deref(n) })
			if i < 0 {
				return nil, api.Errorf("InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
			}
			named = append(named, all[i])
		}
		all = named
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var matched []*launchTemplateRecord
	seen := map[string]bool{}
	for _, lt := range all {
		if seen[*lt.LaunchTemplateId] {
			continue
		}
		seen[*lt.LaunchTemplateId] = true
		ok, err := matchFilters(in.Filters, lt, func(lt *launchTemplateRecord) []*ec2api.Tag { return lt.Tags }, templateFields)
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, lt)
		}
	}
	idOf := func(lt *launchTemplateRecord) string { return *lt.LaunchTemplateId }
	sort.Slice(matched, func(i, j int) bool { return idOf(matched[i]) < idOf(matched[j]) })
	page, next, err := paginateFrom(matched, idOf, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeLaunchTemplatesResult{LaunchTemplates: []*ec2api.LaunchTemplate{}, NextToken: next}
	for _, lt := range page {
		out.LaunchTemplates = append(out.LaunchTemplates, &lt.LaunchTemplate)
	}
	return out, nil
}

// paginateFrom is paginate for the calls whose MaxResults may go below
// paginate's minimum (the caller checks the range); the token is
// paginate's.
func paginateFrom[T any](items []*T, idOf func(*T) string, maxResults *int64, nextToken *string) ([]*T, *string, error) {
	if maxResults == nil || *maxResults >= minPage {
		return paginate(items, idOf, maxResults, nextToken)
	}
	rest, _, err := paginate(items, idOf, nil, nextToken)
	if err != nil || int64(len(rest)) <= *maxResults {
		return rest, nil, err
	}
	tok := base64.RawURLEncoding.EncodeToString([]byte(idOf(rest[*maxResults])))
	return rest[:*maxResults], &tok, nil
}

// versionKey orders a template's versions newest first, as AWS lists them.
func versionKey(v *ec2api.LaunchTemplateVersion) string {
	return fmt.Sprintf("%s/%019d", *v.LaunchTemplateId, math.MaxInt64-*v.VersionNumber)
}

func versionData(f func(*ec2api.ResponseLaunchTemplateData) []string) func(*ec2api.LaunchTemplateVersion) []string {
	return func(v *ec2api.LaunchTemplateVersion) []string {
		if v.LaunchTemplateData == nil {
			return nil
		}
		return f(v.LaunchTemplateData)
	}
}

var versionFields = fields[ec2api.LaunchTemplateVersion]{
	"create-time":        func(v *ec2api.LaunchTemplateVersion) []string { return timeField(v.CreateTime) },
	"is-default-version": func(v *ec2api.LaunchTemplateVersion) []string { return boolField(v.DefaultVersion) },
	"image-id":           versionData(func(d *ec2api.ResponseLaunchTemplateData) []string { return one(d.ImageId) }),
	"instance-type":      versionData(func(d *ec2api.ResponseLaunchTemplateData) []string { return one(d.InstanceType) }),
	"kernel-id":          versionData(func(d *ec2api.ResponseLaunchTemplateData) []string { return one(d.KernelId) }),
	"ram-disk-id":        versionData(func(d *ec2api.ResponseLaunchTemplateData) []string { return one(d.RamDiskId) }),
	"ebs-optimized":      versionData(func(d *ec2api.ResponseLaunchTemplateData) []string { return boolField(d.EbsOptimized) }),
	"iam-instance-profile": versionData(func(d *ec2api.ResponseLaunchTemplateData) []string {
		if d.IamInstanceProfile == nil {
			return nil
		}
		return append(one(d.IamInstanceProfile.Arn), one(d.IamInstanceProfile.Name)...)
	}),
	"http-tokens": versionData(func(d *ec2api.ResponseLaunchTemplateData) []string {
		if d.MetadataOptions == nil {
			return nil
		}
		return one(d.MetadataOptions.HttpTokens)
	}),
	"http-endpoint": versionData(func(d *ec2api.ResponseLaunchTemplateData) []string {
		if d.MetadataOptions == nil {
			return nil
		}
		return one(d.MetadataOptions.HttpEndpoint)
	}),
}

func (s *Service) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2api.DescribeLaunchTemplateVersionsRequest) (*ec2api.DescribeLaunchTemplateVersionsResult, error) {
	sc := scopeOf(ctx)
	if err := checkMaxResults(in.MaxResults, 1, 200); err != nil {
		return nil, err
	}
	var versions []*ec2api.LaunchTemplateVersion
	err := s.store.View(func(tx *store.Tx) error {
		var templates []*launchTemplateRecord
		if in.LaunchTemplateId == nil && in.LaunchTemplateName == nil {
			// Without a template, only $Latest and $Default of every one.
			for _, v := range in.Versions {
				if deref(v) != "$Latest" && deref(v) != "$Default" {
					return api.Errorf("MissingParameter", "The request must contain the parameter launchTemplateName or launchTemplateId")
				}
			}
			var err error
			if templates, err = listAll[launchTemplateRecord](tx, sc, kindLaunchTpl); err != nil {
				return err
			}
		} else {
			lt, err := findLaunchTemplate(tx, sc, in.LaunchTemplateId, in.LaunchTemplateName)
			if err != nil {
				return err
			}
			templates = []*launchTemplateRecord{lt}
		}
		for _, lt := range templates {
			vs, err := selectVersions(lt, in)
			if err != nil {
				return err
			}
			versions = append(versions, vs...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var matched []*ec2api.LaunchTemplateVersion
	for _, v := range versions {
		ok, err := matchFilters(in.Filters, v, noTags[ec2api.LaunchTemplateVersion], versionFields)
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, v)
		}
	}
	sort.Slice(matched, func(i, j int) bool { return versionKey(matched[i]) < versionKey(matched[j]) })
	page, next, err := paginateFrom(matched, versionKey, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []*ec2api.LaunchTemplateVersion{}
	}
	return &ec2api.DescribeLaunchTemplateVersionsResult{LaunchTemplateVersions: page, NextToken: next}, nil
}

// selectVersions applies Versions, MinVersion and MaxVersion to a
// template's versions.
func selectVersions(lt *launchTemplateRecord, in *ec2api.DescribeLaunchTemplateVersionsRequest) ([]*ec2api.LaunchTemplateVersion, error) {
	var out []*ec2api.LaunchTemplateVersion
	if len(in.Versions) > 0 {
		seen := map[int64]bool{}
		for _, want := range in.Versions {
			v, err := lt.version(deref(want))
			if err != nil {
				return nil, err
			}
			if !seen[*v.VersionNumber] {
				seen[*v.VersionNumber] = true
				out = append(out, v)
			}
		}
	} else {
		out = lt.Versions
	}
	lo, hi := int64(1), int64(math.MaxInt64)
	if in.MinVersion != nil {
		n, err := lt.versionNumber(*in.MinVersion)
		if err != nil {
			return nil, err
		}
		lo = n
	}
	if in.MaxVersion != nil {
		n, err := lt.versionNumber(*in.MaxVersion)
		if err != nil {
			return nil, err
		}
		hi = n
	}
	var ranged []*ec2api.LaunchTemplateVersion
	for _, v := range out {
		if *v.VersionNumber >= lo && *v.VersionNumber <= hi {
			ranged = append(ranged, v)
		}
	}
	return ranged, nil
}

func (s *Service) DeleteLaunchTemplate(ctx context.Context, in *ec2api.DeleteLaunchTemplateRequest) (*ec2api.DeleteLaunchTemplateResult, error) {
	sc := scopeOf(ctx)
	var lt *launchTemplateRecord
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if lt, err = findLaunchTemplate(tx, sc, in.LaunchTemplateId, in.LaunchTemplateName); err != nil {
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		return remove(tx, sc, kindLaunchTpl, *lt.LaunchTemplateId)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteLaunchTemplateResult{LaunchTemplate: &lt.LaunchTemplate}, nil
}

func (s *Service) DeleteLaunchTemplateVersions(ctx context.Context, in *ec2api.DeleteLaunchTemplateVersionsRequest) (*ec2api.DeleteLaunchTemplateVersionsResult, error) {
	sc := scopeOf(ctx)
	if len(in.Versions) == 0 {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter launchTemplateVersion")
	}
	out := &ec2api.DeleteLaunchTemplateVersionsResult{
		SuccessfullyDeletedLaunchTemplateVersions:   []*ec2api.DeleteLaunchTemplateVersionsResponseSuccessItem{},
		UnsuccessfullyDeletedLaunchTemplateVersions: []*ec2api.DeleteLaunchTemplateVersionsResponseErrorItem{},
	}
	err := s.store.Update(func(tx *store.Tx) error {
		lt, err := findLaunchTemplate(tx, sc, in.LaunchTemplateId, in.LaunchTemplateName)
		if err != nil {
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		fail := func(n int64, code, msg string) {
			out.UnsuccessfullyDeletedLaunchTemplateVersions = append(out.UnsuccessfullyDeletedLaunchTemplateVersions, &ec2api.DeleteLaunchTemplateVersionsResponseErrorItem{
				LaunchTemplateId: lt.LaunchTemplateId, LaunchTemplateName: lt.LaunchTemplateName, VersionNumber: i64(n),
				ResponseError: &ec2api.ResponseError{Code: str(code), Message: str(msg)},
			})
		}
		for _, want := range in.Versions {
			n, err := strconv.ParseInt(deref(want), 10, 64)
			if err != nil {
				fail(0, "launchTemplateVersionDoesNotExist", fmt.Sprintf("Could not find launch template version %s", deref(want)))
				continue
			}
			i := slices.IndexFunc(lt.Versions, func(v *ec2api.LaunchTemplateVersion) bool { return *v.VersionNumber == n })
			switch {
			case i < 0:
				fail(n, "launchTemplateVersionDoesNotExist", fmt.Sprintf("Could not find launch template version %d", n))
			case n == *lt.DefaultVersionNumber:
				fail(n, "unexpectedError", "Cannot delete the default version of a launch template. Set another version as the default first.")
			default:
				lt.Versions = append(lt.Versions[:i], lt.Versions[i+1:]...)
				out.SuccessfullyDeletedLaunchTemplateVersions = append(out.SuccessfullyDeletedLaunchTemplateVersions, &ec2api.DeleteLaunchTemplateVersionsResponseSuccessItem{
					LaunchTemplateId: lt.LaunchTemplateId, LaunchTemplateName: lt.LaunchTemplateName, VersionNumber: i64(n),
				})
			}
		}
		latest := int64(0)
		for _, v := range lt.Versions {
			latest = max(latest, *v.VersionNumber)
		}
		lt.LatestVersionNumber = i64(latest)
		return save(tx, sc, kindLaunchTpl, *lt.LaunchTemplateId, lt)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
