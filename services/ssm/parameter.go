package ssm

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cloudbox/cloudbox/api"
	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/store"
)

const (
	dataTypeText  = "text"
	dataTypeImage = "aws:ec2:image"

	// The most characters a value may have in each tier.
	standardValueMax = 4096
	advancedValueMax = 8192
)

// amiID is the form an aws:ec2:image value must have.
var amiID = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

func enumError(value, member, set string) error {
	return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", value, member, set)
}

func checkType(t *string) error {
	switch deref(t) {
	case "", ssmapi.ParameterTypeString, ssmapi.ParameterTypeStringList, ssmapi.ParameterTypeSecureString:
		return nil
	}
	return enumError(*t, "type", "SecureString, StringList, String")
}

func checkTier(t *string) error {
	switch deref(t) {
	case "", ssmapi.ParameterTierStandard, ssmapi.ParameterTierAdvanced, ssmapi.ParameterTierIntelligentTiering:
		return nil
	}
	return enumError(*t, "tier", "Standard, Advanced, Intelligent-Tiering")
}

// compilePattern compiles an AllowedPattern, which must match the whole
// value.
func compilePattern(p string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(`^(?:` + p + `)$`)
	if err != nil {
		return nil, api.Errorf("InvalidAllowedPatternException", "The request doesn't meet the regular expression requirement.")
	}
	return re, nil
}

// putRequest is PutParameter's input, checked as far as it can be without
// the parameter's current version.
type putRequest struct {
	name      string
	value     string
	typ       string // "" keeps the current type
	keyID     string
	dataType  string // "" keeps the current data type
	tier      string // "" keeps the current tier
	desc      *string
	pattern   *string
	overwrite bool
	tags      []tag
}

func checkPut(sc scope, in *ssmapi.PutParameterRequest) (*putRequest, error) {
	// What the model constrains comes first, as AWS validates it first.
	if err := checkType(in.Type); err != nil {
		return nil, err
	}
	if err := checkTier(in.Tier); err != nil {
		return nil, err
	}
	if in.KeyId != nil {
		if err := checkKeyID(*in.KeyId); err != nil {
			return nil, err
		}
	}
	if err := checkTags(in.Tags, "tags"); err != nil {
		return nil, err
	}
	// The service trims the spaces around a name.
	r := &putRequest{
		name:      strings.TrimSpace(deref(in.Name)),
		value:     deref(in.Value),
		typ:       deref(in.Type),
		keyID:     deref(in.KeyId),
		dataType:  deref(in.DataType),
		tier:      deref(in.Tier),
		desc:      in.Description,
		pattern:   in.AllowedPattern,
		overwrite: in.Overwrite != nil && *in.Overwrite,
		tags:      tagsOf(in.Tags),
	}
	if err := checkWritable(sc, r.name); err != nil {
		return nil, err
	}
	if in.Policies != nil {
		return nil, api.NewError(501, "NotImplemented", "Parameter policies are not implemented by cloudbox")
	}
	if r.overwrite && len(in.Tags) > 0 {
		return nil, validationError("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	if r.value == "" {
		return nil, validationError("1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.")
	}
	if r.dataType != "" && r.dataType != dataTypeText && r.dataType != dataTypeImage {
		return nil, validationError("The following data type is not supported: %s (Data type names are all lowercase.)", r.dataType)
	}
	if len(r.tags) > maxTags {
		return nil, tooManyTags()
	}
	return r, nil
}

// nextVersion is the version a put makes of the parameter prev (nil for a
// new one), or AWS's error for a put that may not be made.
func (r *putRequest) nextVersion(sc scope, prev *paramVersion) (paramVersion, error) {
	v := paramVersion{Type: r.typ, Value: r.value, DataType: r.dataType, KeyID: r.keyID}
	if prev == nil {
		if v.Type == "" {
			return v, validationError("A parameter type is required when you create a parameter.")
		}
		prev = &paramVersion{DataType: dataTypeText, Tier: ssmapi.ParameterTierStandard}
	}
	if v.Type == "" {
		v.Type = prev.Type
	}
	if v.KeyID != "" && v.Type != ssmapi.ParameterTypeSecureString {
		return v, validationError("KeyId is required for SecureString type parameter only.")
	}
	if v.Type == ssmapi.ParameterTypeSecureString && v.KeyID == "" {
		v.KeyID = prev.KeyID
		if v.KeyID == "" {
			v.KeyID = defaultKeyID
		}
	}
	if v.DataType == "" {
		v.DataType = prev.DataType
	}
	if v.DataType == dataTypeImage && v.Type != ssmapi.ParameterTypeString {
		return v, validationError("The data type %s is supported only for parameters of type String.", dataTypeImage)
	}
	v.Description, v.AllowedPattern = prev.Description, prev.AllowedPattern
	if r.desc != nil {
		v.Description = *r.desc
	}
	if r.pattern != nil {
		v.AllowedPattern = *r.pattern
	}

	n := utf8.RuneCountInString(v.Value)
	switch r.tier {
	case "":
		v.Tier = prev.Tier
	case ssmapi.ParameterTierIntelligentTiering:
		v.Tier = ssmapi.ParameterTierStandard
		if n > standardValueMax || prev.Tier == ssmapi.ParameterTierAdvanced {
			v.Tier = ssmapi.ParameterTierAdvanced
		}
	default:
		v.Tier = r.tier
	}
	if prev.Tier == ssmapi.ParameterTierAdvanced && v.Tier == ssmapi.ParameterTierStandard {
		return v, validationError("This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.")
	}
	if v.Tier == ssmapi.ParameterTierStandard && n > standardValueMax {
		return v, validationError("Standard tier parameters support a maximum parameter value of %d characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html", standardValueMax)
	}
	if n > advancedValueMax {
		return v, validationError("Advanced tier parameters support a maximum parameter value of %d characters.", advancedValueMax)
	}
	if v.AllowedPattern != "" {
		re, err := compilePattern(v.AllowedPattern)
		if err != nil {
			return v, err
		}
		if !re.MatchString(v.Value) {
			return v, api.Errorf("ParameterPatternMismatchException", "Parameter value, cannot be validated against allowedPattern: %s", v.AllowedPattern)
		}
	}
	v.Version = prev.Version + 1
	v.User = sc.caller
	return v, nil
}

func (s *Service) putParameter(ctx context.Context, in *ssmapi.PutParameterRequest) (*ssmapi.PutParameterResult, error) {
	sc := scopeOf(ctx)
	req, err := checkPut(sc, in)
	if err != nil {
		return nil, err
	}
	var v paramVersion
	stored := true
	err = s.store.Update(func(tx *store.Tx) error {
		p, err := load(tx, sc, req.name)
		if err != nil {
			return err
		}
		var prev *paramVersion
		if p != nil {
			if !req.overwrite {
				return api.Errorf("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
			}
			prev = p.latest()
		}
		if v, err = req.nextVersion(sc, prev); err != nil {
			return err
		}
		v.Modified = s.now()
		if p == nil && v.Tier == ssmapi.ParameterTierStandard {
			if err := s.checkStandardLimit(tx, sc); err != nil {
				return err
			}
		}
		if p == nil {
			p = &paramRecord{Name: req.name, Tags: req.tags}
		}
		if len(p.Versions) >= maxVersions {
			if oldest := p.Versions[0]; len(oldest.Labels) > 0 {
				return api.Errorf("ParameterMaxVersionLimitExceeded", "You attempted to create a new version of %s by calling the PutParameter API with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.", req.name, oldest.Version)
			}
			p.Versions = slices.Delete(p.Versions, 0, 1)
		}
		// AWS validates an aws:ec2:image value after answering: a value
		// that is no AMI id leaves the parameter as it was.
		if v.DataType == dataTypeImage && !amiID.MatchString(v.Value) {
			stored = false
			return nil
		}
		p.Versions = append(p.Versions, v)
		return save(tx, sc, p)
	})
	if err != nil {
		return nil, err
	}
	if !stored {
		s.log.Warn("ssm: aws:ec2:image validation failed; the parameter is not created or updated",
			"account", sc.account, "region", sc.region, "name", req.name, "version", v.Version, "value", v.Value)
	}
	return &ssmapi.PutParameterResult{Version: i64(v.Version), Tier: str(v.Tier)}, nil
}

// checkStandardLimit refuses a new standard parameter beyond the quota.
func (s *Service) checkStandardLimit(tx *store.Tx, sc scope) error {
	n, err := tx.Count(sc.account, sc.region, paramKind)
	if err != nil || n < s.StandardLimit {
		return err
	}
	all, err := store.ListAll[paramRecord](tx, sc.account, sc.region, paramKind)
	standard := 0
	for _, p := range all {
		if p.latest().Tier == ssmapi.ParameterTierStandard {
			standard++
		}
	}
	if err != nil || standard < s.StandardLimit {
		return err
	}
	return api.Errorf("ParameterLimitExceeded", "You have reached the maximum number of standard parameters for this AWS account and Region (%d). To add more parameters, either delete existing parameters or upgrade to the advanced-parameter tier (charges apply).", s.StandardLimit)
}

// find returns the parameter r names as the caller sees it (the public
// parameters included), and the account its ARN shows ("" for a public
// one); nil if there is none.
func find(tx *store.Tx, sc scope, r ref) (*paramRecord, string, error) {
	if r.isARN && (r.region != sc.region || r.partition != arn.Partition(sc.region) || r.account != "" && r.account != sc.account) {
		return nil, "", nil
	}
	for _, name := range []string{r.name, r.alt} {
		switch {
		case name == "":
		case isPublic(name):
			if r.isARN && r.account != "" {
				continue
			}
			if p := publicParam(sc.region, name); p != nil {
				return p, "", nil
			}
		default:
			if r.isARN && r.account == "" {
				continue
			}
			p, err := load(tx, sc, name)
			if err != nil || p != nil {
				return p, sc.account, err
			}
		}
	}
	return nil, "", nil
}

// pick returns the version r selects of p.
func pick(p *paramRecord, r ref) (*paramVersion, error) {
	switch {
	case r.hasVersion:
		if v := p.version(r.version); v != nil {
			return v, nil
		}
		return nil, versionNotFound(p.Name, r.version)
	case r.label != "":
		if v := p.labelled(r.label); v != nil {
			return v, nil
		}
		return nil, parameterNotFound()
	}
	return p.latest(), nil
}

// readRef parses a name as GetParameter(s) take it: a name or ARN with an
// optional selector.
func readRef(s string) (ref, error) {
	r, ok := parseRef(s)
	if !ok || !validName(r.name) {
		return ref{}, badName()
	}
	return r, nil
}

// get returns the parameter a reference names, as GetParameter shows it.
func get(tx *store.Tx, sc scope, name string, decrypt bool) (*ssmapi.Parameter, error) {
	r, err := readRef(name)
	if err != nil {
		return nil, err
	}
	p, account, err := find(tx, sc, r)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, parameterNotFound()
	}
	v, err := pick(p, r)
	if err != nil {
		return nil, err
	}
	return v.shown(sc, account, p.Name, r.selector(), decrypt), nil
}

func (s *Service) getParameter(ctx context.Context, in *ssmapi.GetParameterRequest) (*ssmapi.GetParameterResult, error) {
	sc := scopeOf(ctx)
	var out *ssmapi.Parameter
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		out, err = get(tx, sc, deref(in.Name), in.WithDecryption != nil && *in.WithDecryption)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.GetParameterResult{Parameter: out}, nil
}

// notFound reports whether err says a parameter or version does not exist.
func notFound(err error) bool {
	e, ok := err.(*api.Error)
	return ok && (e.Code == "ParameterNotFound" || e.Code == "ParameterVersionNotFound")
}

func (s *Service) getParameters(ctx context.Context, in *ssmapi.GetParametersRequest) (*ssmapi.GetParametersResult, error) {
	sc := scopeOf(ctx)
	decrypt := in.WithDecryption != nil && *in.WithDecryption
	out := &ssmapi.GetParametersResult{Parameters: []*ssmapi.Parameter{}, InvalidParameters: []*string{}}
	err := s.store.View(func(tx *store.Tx) error {
		var seen []string
		for _, name := range derefAll(in.Names) {
			if slices.Contains(seen, name) {
				continue
			}
			seen = append(seen, name)
			p, err := get(tx, sc, name, decrypt)
			switch {
			case notFound(err):
				out.InvalidParameters = append(out.InvalidParameters, str(name))
			case err != nil:
				return err
			default:
				out.Parameters = append(out.Parameters, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// writeRef checks a plain name (no ARN, no selector) a user changes: the
// labels, the deletion.
func writeRef(name string) error {
	if !validName(name) {
		return badName()
	}
	first := firstLevel(name)
	if strings.HasPrefix(first, "aws") {
		return reservedName(name)
	}
	if strings.HasPrefix(first, "ssm") {
		return badName()
	}
	return nil
}

func (s *Service) deleteParameter(ctx context.Context, in *ssmapi.DeleteParameterRequest) (*ssmapi.DeleteParameterResult, error) {
	sc := scopeOf(ctx)
	name := deref(in.Name)
	if err := writeRef(name); err != nil {
		return nil, err
	}
	err := s.store.Update(func(tx *store.Tx) error {
		existed, err := tx.Delete(sc.key(name))
		if err == nil && !existed {
			return parameterNotFound()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.DeleteParameterResult{}, nil
}

func (s *Service) deleteParameters(ctx context.Context, in *ssmapi.DeleteParametersRequest) (*ssmapi.DeleteParametersResult, error) {
	sc := scopeOf(ctx)
	out := &ssmapi.DeleteParametersResult{DeletedParameters: []*string{}, InvalidParameters: []*string{}}
	err := s.store.Update(func(tx *store.Tx) error {
		for _, name := range derefAll(in.Names) {
			existed := false
			if writeRef(name) == nil {
				var err error
				if existed, err = tx.Delete(sc.key(name)); err != nil {
					return err
				}
			}
			if existed {
				out.DeletedParameters = append(out.DeletedParameters, str(name))
			} else if !slices.ContainsFunc(out.InvalidParameters, func(p *string) bool { return *p == name }) &&
				!slices.ContainsFunc(out.DeletedParameters, func(p *string) bool { return *p == name }) {
				out.InvalidParameters = append(out.InvalidParameters, str(name))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
