package ssm_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmsdk "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

const alreadyExists = "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."

func TestPutGetOverwriteVersions(t *testing.T) {
	c := newCloud(t)
	before := time.Now().Add(-time.Second)
	put := must[*ssmsdk.PutParameterOutput](t)(c.ssm.PutParameter(ctx, &ssmsdk.PutParameterInput{
		Name: aws.String("/app/db/host"), Value: aws.String("db1.internal"), Type: types.ParameterTypeString,
		Description: aws.String("the database"),
	}))
	if put.Version != 1 || put.Tier != types.ParameterTierStandard {
		t.Fatalf("put: version %d tier %s", put.Version, put.Tier)
	}
	p := must[*ssmsdk.GetParameterOutput](t)(c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/app/db/host")})).Parameter
	if aws.ToString(p.Name) != "/app/db/host" || aws.ToString(p.Value) != "db1.internal" || p.Type != types.ParameterTypeString || p.Version != 1 {
		t.Errorf("get: %+v", p)
	}
	if aws.ToString(p.ARN) != "arn:aws:ssm:eu-west-3:000000000000:parameter/app/db/host" || aws.ToString(p.DataType) != "text" || p.Selector != nil {
		t.Errorf("get: ARN %s data type %s selector %v", aws.ToString(p.ARN), aws.ToString(p.DataType), p.Selector)
	}
	if p.LastModifiedDate == nil || p.LastModifiedDate.Before(before) {
		t.Errorf("LastModifiedDate %v", p.LastModifiedDate)
	}

	_, err := c.ssm.PutParameter(ctx, &ssmsdk.PutParameterInput{Name: aws.String("/app/db/host"), Value: aws.String("db2"), Type: types.ParameterTypeString})
	wantErrMsg(t, err, "ParameterAlreadyExists", alreadyExists)

	// Overwrite without a type keeps the type and the description.
	if v := c.put(t, "/app/db/host", "db2.internal", overwrite, func(in *ssmsdk.PutParameterInput) { in.Type = "" }); v != 2 {
		t.Fatalf("overwrite gave version %d", v)
	}
	if got := c.value(t, "/app/db/host"); got != "db2.internal" {
		t.Errorf("after overwrite: %q", got)
	}
	old := must[*ssmsdk.GetParameterOutput](t)(c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/app/db/host:1")})).Parameter
	if aws.ToString(old.Value) != "db1.internal" || old.Version != 1 || aws.ToString(old.Selector) != ":1" || aws.ToString(old.Name) != "/app/db/host" {
		t.Errorf("version 1: %+v", old)
	}
	d := must[*ssmsdk.DescribeParametersOutput](t)(c.ssm.DescribeParameters(ctx, &ssmsdk.DescribeParametersInput{}))
	if len(d.Parameters) != 1 || aws.ToString(d.Parameters[0].Description) != "the database" || d.Parameters[0].Version != 2 ||
		aws.ToString(d.Parameters[0].LastModifiedUser) != "arn:aws:iam::000000000000:root" {
		t.Errorf("describe: %+v", d.Parameters)
	}

	_, err = c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/app/db/host:3")})
	wantErrMsg(t, err, "ParameterVersionNotFound", "Systems Manager could not find version 3 of /app/db/host. Verify the version and try again.")
	_, err = c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/app/db/port")})
	wantErrMsg(t, err, "ParameterNotFound", "")

	// A non-hierarchical name, and a type change on overwrite.
	c.put(t, "plain", "a,b", func(in *ssmsdk.PutParameterInput) { in.Type = types.ParameterTypeStringList })
	if got := c.value(t, "plain"); got != "a,b" {
		t.Errorf("plain: %q", got)
	}
	c.put(t, "plain", "secret", overwrite, func(in *ssmsdk.PutParameterInput) { in.Type = types.ParameterTypeSecureString })
	h := must[*ssmsdk.GetParameterHistoryOutput](t)(c.ssm.GetParameterHistory(ctx, &ssmsdk.GetParameterHistoryInput{Name: aws.String("plain"), WithDecryption: aws.Bool(true)}))
	if len(h.Parameters) != 2 || h.Parameters[0].Type != types.ParameterTypeStringList || h.Parameters[1].Type != types.ParameterTypeSecureString ||
		aws.ToString(h.Parameters[1].KeyId) != "alias/aws/ssm" || aws.ToString(h.Parameters[1].Value) != "secret" {
		t.Errorf("history: %+v", h.Parameters)
	}
}

func TestSecureString(t *testing.T) {
	c := newCloud(t)
	c.put(t, "/app/password", "hunter2", func(in *ssmsdk.PutParameterInput) { in.Type = types.ParameterTypeSecureString })
	get := func(decrypt bool) string {
		out := must[*ssmsdk.GetParameterOutput](t)(c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/app/password"), WithDecryption: aws.Bool(decrypt)}))
		return aws.ToString(out.Parameter.Value)
	}
	enc := get(false)
	blob, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || !strings.HasPrefix(enc, "AQICAH") || strings.Contains(string(blob), "hunter2") || len(blob) < 40 {
		t.Errorf("without decryption: %q", enc)
	}
	if again := get(false); again != enc {
		t.Errorf("the ciphertext changed between reads: %q, %q", enc, again)
	}
	if got := get(true); got != "hunter2" {
		t.Errorf("with decryption: %q", got)
	}
	ps := must[*ssmsdk.GetParametersOutput](t)(c.ssm.GetParameters(ctx, &ssmsdk.GetParametersInput{Names: []string{"/app/password"}}))
	if len(ps.Parameters) != 1 || aws.ToString(ps.Parameters[0].Value) != enc {
		t.Errorf("GetParameters without decryption: %+v", ps.Parameters)
	}
	h := must[*ssmsdk.GetParameterHistoryOutput](t)(c.ssm.GetParameterHistory(ctx, &ssmsdk.GetParameterHistoryInput{Name: aws.String("/app/password")}))
	if aws.ToString(h.Parameters[0].Value) != enc {
		t.Errorf("history without decryption: %q", aws.ToString(h.Parameters[0].Value))
	}

	// A customer key, kept when the overwrite names none.
	const key = "arn:aws:kms:eu-west-3:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	c.put(t, "/app/token", "t1", func(in *ssmsdk.PutParameterInput) {
		in.Type = types.ParameterTypeSecureString
		in.KeyId = aws.String(key)
	})
	c.put(t, "/app/token", "t2", overwrite, func(in *ssmsdk.PutParameterInput) { in.Type = types.ParameterTypeSecureString })
	d := must[*ssmsdk.DescribeParametersOutput](t)(c.ssm.DescribeParameters(ctx, &ssmsdk.DescribeParametersInput{}))
	keys := map[string]string{}
	for _, p := range d.Parameters {
		keys[aws.ToString(p.Name)] = aws.ToString(p.KeyId)
	}
	if keys["/app/password"] != "alias/aws/ssm" || keys["/app/token"] != key {
		t.Errorf("key ids %v", keys)
	}
	if got := c.value(t, "/app/token"); got != "t2" {
		t.Errorf("token %q", got)
	}

	_, err = c.ssm.PutParameter(ctx, &ssmsdk.PutParameterInput{Name: aws.String("/app/x"), Value: aws.String("v"), Type: types.ParameterTypeString, KeyId: aws.String("alias/aws/ssm")})
	wantErrMsg(t, err, "ValidationException", "KeyId is required for SecureString type parameter only.")
	_, err = c.ssm.PutParameter(ctx, &ssmsdk.PutParameterInput{Name: aws.String("/app/x"), Value: aws.String("v"), Type: types.ParameterTypeSecureString, KeyId: aws.String("no-such-key")})
	if msg := wantErr(t, err, "InvalidKeyId"); !strings.HasPrefix(msg, "Key 'no-such-key' does not exist (Service: AWSKMS; Status Code: 400; Error Code: NotFoundException;") {
		t.Errorf("InvalidKeyId message %q", msg)
	}
	_, err = c.ssm.PutParameter(ctx, &ssmsdk.PutParameterInput{Name: aws.String("/app/x"), Value: aws.String("v"), Type: types.ParameterTypeSecureString, KeyId: aws.String("bad key")})
	wantErrMsg(t, err, "ValidationException", "1 validation error detected: Value 'bad key' at 'keyId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([a-zA-Z0-9:/_-]+)$")
}

func TestPutErrors(t *testing.T) {
	c := newCloud(t)
	c.put(t, "/exists", "v")
	c.put(t, "/big", "v", func(in *ssmsdk.PutParameterInput) { in.Tier = types.ParameterTierAdvanced })
	c.put(t, "/digits", "123", func(in *ssmsdk.PutParameterInput) { in.AllowedPattern = aws.String(`\d{1,4}`) })
	const badName = `Parameter name: can't be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`
	deep := strings.Repeat("/l", 15) + "/p"
	cases := []struct {
		name      string
		in        ssmsdk.PutParameterInput
		code, msg string
	}{
		{"space inside", ssmsdk.PutParameterInput{Name: aws.String("Dev MySQL DB")}, "ValidationException", badName},
		{"path without slash", ssmsdk.PutParameterInput{Name: aws.String("app/db")}, "ValidationException", badName},
		{"empty level", ssmsdk.PutParameterInput{Name: aws.String("/app//db")}, "ValidationException", badName},
		{"trailing slash", ssmsdk.PutParameterInput{Name: aws.String("/app/")}, "ValidationException", badName},
		{"special character", ssmsdk.PutParameterInput{Name: aws.String("/app/e@mail")}, "ValidationException", badName},
		{"ssm prefix", ssmsdk.PutParameterInput{Name: aws.String("/SSM/x")}, "ValidationException", badName},
		{"ssm prefix, no path", ssmsdk.PutParameterInput{Name: aws.String("ssmthing")}, "ValidationException", badName},
		{"aws path", ssmsdk.PutParameterInput{Name: aws.String("/aws/test")}, "AccessDeniedException", "No access to reserved parameter name: aws/test."},
		{"aws prefix in path", ssmsdk.PutParameterInput{Name: aws.String("/awssec/lab01/vpc_id")}, "AccessDeniedException", "No access to reserved parameter name: awssec/lab01/vpc_id."},
		{"aws prefix, no path", ssmsdk.PutParameterInput{Name: aws.String("AWSlimits")}, "AccessDeniedException", "No access to reserved parameter name: AWSlimits."},
		{"public parameter", ssmsdk.PutParameterInput{Name: aws.String("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")}, "AccessDeniedException",
			"No access to reserved parameter name: aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64."},
		{"16 levels", ssmsdk.PutParameterInput{Name: aws.String(deep)}, "HierarchyLevelLimitExceededException",
			"A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the Amazon Web Services Systems Manager User Guide."},
		{"bad type", ssmsdk.PutParameterInput{Type: "AWS::EC2::Image::Id"}, "ValidationException",
			"1 validation error detected: Value 'AWS::EC2::Image::Id' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]"},
		{"bad tier", ssmsdk.PutParameterInput{Tier: "Premium"}, "ValidationException",
			"1 validation error detected: Value 'Premium' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]"},
		{"no type", ssmsdk.PutParameterInput{Type: "-"}, "ValidationException", "A parameter type is required when you create a parameter."},
		{"exists", ssmsdk.PutParameterInput{Name: aws.String("/exists")}, "ParameterAlreadyExists", alreadyExists},
		{"tags and overwrite", ssmsdk.PutParameterInput{Name: aws.String("/exists"), Overwrite: aws.Bool(true), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, "ValidationException",
			"Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource."},
		{"empty value", ssmsdk.PutParameterInput{Value: aws.String("")}, "ValidationException",
			"1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1."},
		{"unsupported data type", ssmsdk.PutParameterInput{DataType: aws.String("AWS:EC2:IMAGE")}, "ValidationException",
			"The following data type is not supported: AWS:EC2:IMAGE (Data type names are all lowercase.)"},
		{"standard too big", ssmsdk.PutParameterInput{Value: aws.String(strings.Repeat("x", 4097))}, "ValidationException",
			"Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"},
		{"advanced too big", ssmsdk.PutParameterInput{Value: aws.String(strings.Repeat("x", 8193)), Tier: types.ParameterTierAdvanced}, "ValidationException",
			"Advanced tier parameters support a maximum parameter value of 8192 characters."},
		{"downgrade", ssmsdk.PutParameterInput{Name: aws.String("/big"), Overwrite: aws.Bool(true), Tier: types.ParameterTierStandard}, "ValidationException",
			"This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter."},
		{"pattern mismatch", ssmsdk.PutParameterInput{Value: aws.String("10,000"), AllowedPattern: aws.String(`\d{1,4}`)}, "ParameterPatternMismatchException",
			`Parameter value, cannot be validated against allowedPattern: \d{1,4}`},
		{"kept pattern", ssmsdk.PutParameterInput{Name: aws.String("/digits"), Overwrite: aws.Bool(true), Value: aws.String("12345")}, "ParameterPatternMismatchException",
			`Parameter value, cannot be validated against allowedPattern: \d{1,4}`},
		{"bad pattern", ssmsdk.PutParameterInput{AllowedPattern: aws.String(`(`)}, "InvalidAllowedPatternException", "The request doesn't meet the regular expression requirement."},
		{"image on SecureString", ssmsdk.PutParameterInput{Type: types.ParameterTypeSecureString, DataType: aws.String("aws:ec2:image")}, "ValidationException",
			"The data type aws:ec2:image is supported only for parameters of type String."},
		{"tag pattern", ssmsdk.PutParameterInput{Tags: []types.Tag{{Key: aws.String("a*b"), Value: aws.String("v")}}}, "ValidationException",
			`1 validation error detected: Value 'a*b' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`},
		{"policies", ssmsdk.PutParameterInput{Tier: types.ParameterTierAdvanced, Policies: aws.String(`[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2030-01-01T00:00:00.000Z"}}]`)}, "NotImplemented",
			"Parameter policies are not implemented by cloudbox"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Name == nil {
				in.Name = aws.String("/new")
			}
			if in.Value == nil {
				in.Value = aws.String("v")
			}
			switch in.Type {
			case "":
				in.Type = types.ParameterTypeString
			case "-":
				in.Type = ""
			}
			_, err := c.ssm.PutParameter(ctx, &in)
			wantErrMsg(t, err, tc.code, tc.msg)
		})
	}
	// None of them left a parameter behind; 15 levels and 1011 characters
	// are allowed.
	if _, err := c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/new")}); err == nil {
		t.Error("a failed put created /new")
	}
	c.put(t, strings.Repeat("/l", 14)+"/p", "deep")
	long := "/" + strings.Repeat("n", 1011-len("arn:aws:ssm:eu-west-3:000000000000:parameter/"))
	c.put(t, long, "long")
	_, err := c.ssm.PutParameter(ctx, &ssmsdk.PutParameterInput{Name: aws.String(long + "n"), Value: aws.String("v"), Type: types.ParameterTypeString})
	wantErr(t, err, "ValidationException")
	// Spaces around a name are trimmed.
	c.put(t, "  /trimmed ", "v")
	if got := c.value(t, "/trimmed"); got != "v" {
		t.Errorf("trimmed name: %q", got)
	}
}

func TestTiers(t *testing.T) {
	c := newCloud(t)
	tierOf := func(name, value string, tier types.ParameterTier, opts ...func(*ssmsdk.PutParameterInput)) types.ParameterTier {
		t.Helper()
		in := &ssmsdk.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: types.ParameterTypeString, Tier: tier}
		for _, o := range opts {
			o(in)
		}
		return must[*ssmsdk.PutParameterOutput](t)(c.ssm.PutParameter(ctx, in)).Tier
	}
	big := strings.Repeat("x", 5000)
	if got := tierOf("/small", "v", types.ParameterTierIntelligentTiering); got != types.ParameterTierStandard {
		t.Errorf("intelligent tiering, small value: %s", got)
	}
	if got := tierOf("/large", big, types.ParameterTierIntelligentTiering); got != types.ParameterTierAdvanced {
		t.Errorf("intelligent tiering, large value: %s", got)
	}
	if got := tierOf("/large", "small now", "", overwrite); got != types.ParameterTierAdvanced {
		t.Errorf("an overwrite without tier keeps advanced: %s", got)
	}
	if got := tierOf("/small", big, types.ParameterTierAdvanced, overwrite); got != types.ParameterTierAdvanced {
		t.Errorf("upgrade: %s", got)
	}
	if got := c.value(t, "/small"); got != big {
		t.Errorf("8 KB value not stored")
	}
	d := must[*ssmsdk.DescribeParametersOutput](t)(c.ssm.DescribeParameters(ctx, &ssmsdk.DescribeParametersInput{}))
	for _, p := range d.Parameters {
		if p.Tier != types.ParameterTierAdvanced {
			t.Errorf("%s tier %s", aws.ToString(p.Name), p.Tier)
		}
	}
}

func TestStandardLimit(t *testing.T) {
	c := newCloud(t)
	c.svc.StandardLimit = 2
	c.put(t, "/a", "1")
	c.put(t, "/b", "2")
	_, err := c.ssm.PutParameter(ctx, &ssmsdk.PutParameterInput{Name: aws.String("/c"), Value: aws.String("3"), Type: types.ParameterTypeString})
	wantErrMsg(t, err, "ParameterLimitExceeded", "You have reached the maximum number of standard parameters for this AWS account and Region (2). To add more parameters, either delete existing parameters or upgrade to the advanced-parameter tier (charges apply).")
	c.put(t, "/b", "2b", overwrite) // a new version is no new parameter
	c.put(t, "/c", "3", func(in *ssmsdk.PutParameterInput) { in.Tier = types.ParameterTierAdvanced })
}

func TestMaxVersions(t *testing.T) {
	c := newCloud(t)
	for i := 1; i <= 100; i++ {
		c.put(t, "/many", fmt.Sprint(i), overwrite)
	}
	if v := c.put(t, "/many", "101", overwrite); v != 101 {
		t.Fatalf("version %d", v)
	}
	h := must[*ssmsdk.GetParameterHistoryOutput](t)(c.ssm.GetParameterHistory(ctx, &ssmsdk.GetParameterHistoryInput{Name: aws.String("/many"), MaxResults: aws.Int32(50)}))
	if len(h.Parameters) != 50 || h.Parameters[0].Version != 2 || h.NextToken == nil {
		t.Fatalf("first page: %d versions from %d, token %v", len(h.Parameters), h.Parameters[0].Version, h.NextToken)
	}
	var versions []int64
	for _, p := range h.Parameters {
		versions = append(versions, p.Version)
	}
	for token := h.NextToken; token != nil; {
		page := must[*ssmsdk.GetParameterHistoryOutput](t)(c.ssm.GetParameterHistory(ctx, &ssmsdk.GetParameterHistoryInput{Name: aws.String("/many"), NextToken: token}))
		for _, p := range page.Parameters {
			versions = append(versions, p.Version)
		}
		token = page.NextToken
	}
	if len(versions) != 100 || versions[0] != 2 || versions[99] != 101 {
		t.Errorf("history holds %d versions, %v..%v", len(versions), versions[0], versions[len(versions)-1])
	}
	_, err := c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/many:1")})
	wantErr(t, err, "ParameterVersionNotFound")

	// A label on the oldest version keeps it, and refuses the next version.
	must[*ssmsdk.LabelParameterVersionOutput](t)(c.ssm.LabelParameterVersion(ctx, &ssmsdk.LabelParameterVersionInput{Name: aws.String("/many"), ParameterVersion: aws.Int64(2), Labels: []string{"keep"}}))
	_, err = c.ssm.PutParameter(ctx, &ssmsdk.PutParameterInput{Name: aws.String("/many"), Value: aws.String("102"), Overwrite: aws.Bool(true)})
	wantErrMsg(t, err, "ParameterMaxVersionLimitExceeded", "You attempted to create a new version of /many by calling the PutParameter API with the overwrite flag. Version 2, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.")
	_, err = c.ssm.GetParameterHistory(ctx, &ssmsdk.GetParameterHistoryInput{Name: aws.String("/many"), NextToken: aws.String("garbage")})
	wantErrMsg(t, err, "InvalidNextToken", "The specified token isn't valid.")
}

func TestLabels(t *testing.T) {
	c := newCloud(t)
	for _, v := range []string{"one", "two", "three"} {
		c.put(t, "/svc/url", v, overwrite)
	}
	label := func(version *int64, labels ...string) *ssmsdk.LabelParameterVersionOutput {
		t.Helper()
		return must[*ssmsdk.LabelParameterVersionOutput](t)(c.ssm.LabelParameterVersion(ctx, &ssmsdk.LabelParameterVersionInput{Name: aws.String("/svc/url"), ParameterVersion: version, Labels: labels}))
	}
	out := label(aws.Int64(1), "prod", "Stable_1.0", "1bad", "awsx", "SSMy", "a b")
	if out.ParameterVersion != 1 || strings.Join(out.InvalidLabels, ",") != "1bad,awsx,SSMy,a b" {
		t.Errorf("label: version %d invalid %q", out.ParameterVersion, out.InvalidLabels)
	}
	if out := label(nil, "latest"); out.ParameterVersion != 3 || len(out.InvalidLabels) != 0 {
		t.Errorf("label without version: %+v", out)
	}
	byLabel := must[*ssmsdk.GetParameterOutput](t)(c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/svc/url:prod")})).Parameter
	if aws.ToString(byLabel.Value) != "one" || aws.ToString(byLabel.Selector) != ":prod" || byLabel.Version != 1 {
		t.Errorf("by label: %+v", byLabel)
	}
	// Moving a label.
	label(aws.Int64(2), "prod")
	if got := c.value(t, "/svc/url:prod"); got != "two" {
		t.Errorf("moved label gives %q", got)
	}
	h := must[*ssmsdk.GetParameterHistoryOutput](t)(c.ssm.GetParameterHistory(ctx, &ssmsdk.GetParameterHistoryInput{Name: aws.String("/svc/url")}))
	got := map[int64][]string{}
	for _, p := range h.Parameters {
		got[p.Version] = p.Labels
	}
	if fmt.Sprint(got) != "map[1:[Stable_1.0] 2:[prod] 3:[latest]]" {
		t.Errorf("labels in history: %v", got)
	}
	_, err := c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/svc/url:nolabel")})
	wantErrMsg(t, err, "ParameterNotFound", "")

	_, err = c.ssm.LabelParameterVersion(ctx, &ssmsdk.LabelParameterVersionInput{Name: aws.String("/svc/url"), ParameterVersion: aws.Int64(9), Labels: []string{"x"}})
	wantErrMsg(t, err, "ParameterVersionNotFound", "Systems Manager could not find version 9 of /svc/url. Verify the version and try again.")
	_, err = c.ssm.LabelParameterVersion(ctx, &ssmsdk.LabelParameterVersionInput{Name: aws.String("/svc/none"), Labels: []string{"x"}})
	wantErrMsg(t, err, "ParameterNotFound", "")
	_, err = c.ssm.LabelParameterVersion(ctx, &ssmsdk.LabelParameterVersionInput{Name: aws.String("/svc/url"), Labels: []string{strings.Repeat("l", 101)}})
	wantErr(t, err, "ValidationException")
	label(aws.Int64(3), "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9")
	_, err = c.ssm.LabelParameterVersion(ctx, &ssmsdk.LabelParameterVersionInput{Name: aws.String("/svc/url"), ParameterVersion: aws.Int64(3), Labels: []string{"l10"}})
	wantErrMsg(t, err, "ParameterVersionLabelLimitExceeded", "A parameter version can have maximum 10 labels. Move one or more labels to another version and try again.")

	un := must[*ssmsdk.UnlabelParameterVersionOutput](t)(c.ssm.UnlabelParameterVersion(ctx, &ssmsdk.UnlabelParameterVersionInput{
		Name: aws.String("/svc/url"), ParameterVersion: aws.Int64(2), Labels: []string{"prod", "latest"}}))
	if strings.Join(un.RemovedLabels, ",") != "prod" || strings.Join(un.InvalidLabels, ",") != "latest" {
		t.Errorf("unlabel: removed %q invalid %q", un.RemovedLabels, un.InvalidLabels)
	}
	_, err = c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/svc/url:prod")})
	wantErr(t, err, "ParameterNotFound")
	_, err = c.ssm.UnlabelParameterVersion(ctx, &ssmsdk.UnlabelParameterVersionInput{Name: aws.String("/svc/url"), ParameterVersion: aws.Int64(7), Labels: []string{"x"}})
	wantErr(t, err, "ParameterVersionNotFound")
	_, err = c.ssm.LabelParameterVersion(ctx, &ssmsdk.LabelParameterVersionInput{Name: aws.String("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"), Labels: []string{"mine"}})
	wantErrMsg(t, err, "AccessDeniedException", "No access to reserved parameter name: aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64.")
}

func TestGetParameters(t *testing.T) {
	c := newCloud(t)
	c.put(t, "/a", "1")
	c.put(t, "/a", "2", overwrite)
	c.put(t, "b", "3")
	out := must[*ssmsdk.GetParametersOutput](t)(c.ssm.GetParameters(ctx, &ssmsdk.GetParametersInput{
		Names: []string{"/a", "/a:1", "b", "/missing", "/a:7", "/a", "arn:aws:ssm:eu-west-3:000000000000:parameter/b", "arn:aws:ssm:eu-west-3:111111111111:parameter/b"},
	}))
	var got []string
	for _, p := range out.Parameters {
		got = append(got, aws.ToString(p.Name)+aws.ToString(p.Selector)+"="+aws.ToString(p.Value))
	}
	if strings.Join(got, " ") != "/a=2 /a:1=1 b=3 b=3" {
		t.Errorf("parameters %q", got)
	}
	if strings.Join(out.InvalidParameters, " ") != "/missing /a:7 arn:aws:ssm:eu-west-3:111111111111:parameter/b" {
		t.Errorf("invalid parameters %q", out.InvalidParameters)
	}
	none := must[*ssmsdk.GetParametersOutput](t)(c.ssm.GetParameters(ctx, &ssmsdk.GetParametersInput{Names: []string{"/a"}}))
	if none.InvalidParameters == nil || len(none.InvalidParameters) != 0 {
		t.Errorf("InvalidParameters %v", none.InvalidParameters)
	}
	_, err := c.ssm.GetParameters(ctx, &ssmsdk.GetParametersInput{Names: []string{"/a", "bad name"}})
	wantErr(t, err, "ValidationException")
	_, err = c.ssm.GetParameters(ctx, &ssmsdk.GetParametersInput{Names: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}})
	wantErr(t, err, "ValidationException")

	// An ARN reads a parameter too, with its selector; another region's
	// ARN names nothing here.
	arn := must[*ssmsdk.GetParameterOutput](t)(c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("arn:aws:ssm:eu-west-3:000000000000:parameter/a:1")})).Parameter
	if aws.ToString(arn.Value) != "1" || aws.ToString(arn.ARN) != "arn:aws:ssm:eu-west-3:000000000000:parameter/a" {
		t.Errorf("by ARN: %+v", arn)
	}
	_, err = c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("arn:aws:ssm:us-east-1:000000000000:parameter/a")})
	wantErr(t, err, "ParameterNotFound")
	_, err = c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("{test}-test")})
	wantErr(t, err, "ValidationException")

	// Accounts and regions see their own parameters.
	other := c.client(region, "111111111111")
	_, err = other.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/a")})
	wantErr(t, err, "ParameterNotFound")
	_, err = c.client("us-west-2", "test").GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/a")})
	wantErr(t, err, "ParameterNotFound")
}

func TestDelete(t *testing.T) {
	c := newCloud(t)
	c.put(t, "/d/1", "x")
	c.put(t, "/d/2", "x")
	c.put(t, "/d/3", "x")
	must[*ssmsdk.DeleteParameterOutput](t)(c.ssm.DeleteParameter(ctx, &ssmsdk.DeleteParameterInput{Name: aws.String("/d/1")}))
	_, err := c.ssm.DeleteParameter(ctx, &ssmsdk.DeleteParameterInput{Name: aws.String("/d/1")})
	wantErrMsg(t, err, "ParameterNotFound", "")
	_, err = c.ssm.DeleteParameter(ctx, &ssmsdk.DeleteParameterInput{Name: aws.String("aws-cdk-playground")})
	wantErrMsg(t, err, "AccessDeniedException", "No access to reserved parameter name: aws-cdk-playground.")
	_, err = c.ssm.DeleteParameter(ctx, &ssmsdk.DeleteParameterInput{Name: aws.String("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")})
	wantErr(t, err, "AccessDeniedException")

	out := must[*ssmsdk.DeleteParametersOutput](t)(c.ssm.DeleteParameters(ctx, &ssmsdk.DeleteParametersInput{Names: []string{"/d/2", "/d/1", "/d/3", "/aws/x", "bad name", "/d/2"}}))
	if strings.Join(out.DeletedParameters, " ") != "/d/2 /d/3" || strings.Join(out.InvalidParameters, ",") != "/d/1,/aws/x,bad name" {
		t.Errorf("deleted %q invalid %q", out.DeletedParameters, out.InvalidParameters)
	}
	// A deleted name starts again at version 1.
	if v := c.put(t, "/d/2", "again"); v != 1 {
		t.Errorf("recreated at version %d", v)
	}
}

func TestImageDataType(t *testing.T) {
	c := newCloud(t)
	image := func(in *ssmsdk.PutParameterInput) { in.DataType = aws.String("aws:ec2:image") }
	c.put(t, "/golden-ami", "ami-0123456789abcdef0", image)
	p := must[*ssmsdk.GetParameterOutput](t)(c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/golden-ami")})).Parameter
	if aws.ToString(p.DataType) != "aws:ec2:image" || aws.ToString(p.Value) != "ami-0123456789abcdef0" {
		t.Errorf("image parameter: %+v", p)
	}
	// As on AWS, an invalid AMI id is accepted by the call and then not
	// stored: the parameter keeps its value, and a new one is not created.
	if v := c.put(t, "/golden-ami", "ami-0000000000000", overwrite); v != 2 {
		t.Errorf("put answered version %d", v)
	}
	if got := c.value(t, "/golden-ami"); got != "ami-0123456789abcdef0" {
		t.Errorf("an invalid AMI id replaced the value: %q", got)
	}
	c.put(t, "/not-an-ami", "hello", image)
	_, err := c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/not-an-ami")})
	wantErr(t, err, "ParameterNotFound")
	// An overwrite keeps the data type; 8-digit ids are AMI ids too.
	c.put(t, "/golden-ami", "ami-12345678", overwrite)
	p = must[*ssmsdk.GetParameterOutput](t)(c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/golden-ami")})).Parameter
	if aws.ToString(p.Value) != "ami-12345678" || aws.ToString(p.DataType) != "aws:ec2:image" || p.Version != 2 {
		t.Errorf("after a valid overwrite: %+v", p)
	}
}
