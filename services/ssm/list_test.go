package ssm_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmsdk "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// seed makes a small tree of parameters:
//
//	/app/db/host   String    tag env=prod
//	/app/db/pass   SecureString (custom key)  Advanced
//	/app/name      StringList   labelled "live" at version 1 of 2
//	/app/deep/a/b  String    data type aws:ec2:image
//	/other/x       String    tag env=dev
//	top            String
func seed(t *testing.T, c *cloud) {
	t.Helper()
	c.put(t, "/app/db/host", "db.internal", func(in *ssmsdk.PutParameterInput) {
		in.Tags = []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}
	})
	c.put(t, "/app/db/pass", "s3cret", func(in *ssmsdk.PutParameterInput) {
		in.Type, in.KeyId, in.Tier = types.ParameterTypeSecureString, aws.String("alias/app"), types.ParameterTierAdvanced
	})
	c.put(t, "/app/name", "a,b", func(in *ssmsdk.PutParameterInput) { in.Type = types.ParameterTypeStringList })
	c.put(t, "/app/name", "a,b,c", overwrite, func(in *ssmsdk.PutParameterInput) { in.Type = types.ParameterTypeStringList })
	must[*ssmsdk.LabelParameterVersionOutput](t)(c.ssm.LabelParameterVersion(ctx, &ssmsdk.LabelParameterVersionInput{Name: aws.String("/app/name"), ParameterVersion: aws.Int64(1), Labels: []string{"live"}}))
	c.put(t, "/app/deep/a/b", "ami-12345678", func(in *ssmsdk.PutParameterInput) { in.DataType = aws.String("aws:ec2:image") })
	c.put(t, "/other/x", "x", func(in *ssmsdk.PutParameterInput) {
		in.Tags = []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}
	})
	c.put(t, "top", "t")
}

func names(ps []types.Parameter) string {
	var out []string
	for _, p := range ps {
		out = append(out, aws.ToString(p.Name))
	}
	return strings.Join(out, " ")
}

func TestGetParametersByPath(t *testing.T) {
	c := newCloud(t)
	seed(t, c)
	cases := []struct {
		name string
		in   ssmsdk.GetParametersByPathInput
		want string
	}{
		{"one level", ssmsdk.GetParametersByPathInput{Path: aws.String("/app")}, "/app/name"},
		{"recursive", ssmsdk.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true)}, "/app/db/host /app/db/pass /app/deep/a/b /app/name"},
		{"trailing slash", ssmsdk.GetParametersByPathInput{Path: aws.String("/app/db/")}, "/app/db/host /app/db/pass"},
		{"root", ssmsdk.GetParametersByPathInput{Path: aws.String("/")}, ""},
		{"root recursive", ssmsdk.GetParametersByPathInput{Path: aws.String("/"), Recursive: aws.Bool(true)}, "/app/db/host /app/db/pass /app/deep/a/b /app/name /other/x"},
		{"nothing there", ssmsdk.GetParametersByPathInput{Path: aws.String("/nope"), Recursive: aws.Bool(true)}, ""},
		{"type", ssmsdk.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"SecureString", "StringList"}}}}, "/app/db/pass /app/name"},
		{"key id", ssmsdk.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("KeyId"), Option: aws.String("BeginsWith"), Values: []string{"alias/"}}}}, "/app/db/pass"},
		{"label", ssmsdk.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Label"), Values: []string{"live"}}}}, "/app/name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*ssmsdk.GetParametersByPathOutput](t)(c.ssm.GetParametersByPath(ctx, &tc.in))
			if got := names(out.Parameters); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// The label filter gives the labelled version; the value of a
	// SecureString is encrypted unless asked.
	out := must[*ssmsdk.GetParametersByPathOutput](t)(c.ssm.GetParametersByPath(ctx, &ssmsdk.GetParametersByPathInput{Path: aws.String("/app"),
		ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Label"), Values: []string{"live"}}}}))
	if len(out.Parameters) != 1 || aws.ToString(out.Parameters[0].Value) != "a,b" || out.Parameters[0].Version != 1 {
		t.Errorf("by label: %+v", out.Parameters)
	}
	for _, decrypt := range []bool{false, true} {
		out := must[*ssmsdk.GetParametersByPathOutput](t)(c.ssm.GetParametersByPath(ctx, &ssmsdk.GetParametersByPathInput{Path: aws.String("/app/db"), WithDecryption: aws.Bool(decrypt)}))
		if v := aws.ToString(out.Parameters[1].Value); (v == "s3cret") != decrypt {
			t.Errorf("decrypt %v: %q", decrypt, v)
		}
	}

	// Paging.
	for i := 0; i < 23; i++ {
		c.put(t, fmt.Sprintf("/page/p%02d", i), "v")
	}
	var all []string
	var token *string
	pages := 0
	for {
		out := must[*ssmsdk.GetParametersByPathOutput](t)(c.ssm.GetParametersByPath(ctx, &ssmsdk.GetParametersByPathInput{Path: aws.String("/page"), MaxResults: aws.Int32(7), NextToken: token}))
		pages++
		for _, p := range out.Parameters {
			all = append(all, aws.ToString(p.Name))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(all) != 23 || pages != 4 || !slices.IsSorted(all) {
		t.Errorf("%d parameters in %d pages", len(all), pages)
	}
	if def := must[*ssmsdk.GetParametersByPathOutput](t)(c.ssm.GetParametersByPath(ctx, &ssmsdk.GetParametersByPathInput{Path: aws.String("/page")})); len(def.Parameters) != 10 || def.NextToken == nil {
		t.Errorf("default page: %d", len(def.Parameters))
	}

	const badPath = `The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash "/". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.`
	errs := []struct {
		name      string
		in        ssmsdk.GetParametersByPathInput
		code, msg string
	}{
		{"no leading slash", ssmsdk.GetParametersByPathInput{Path: aws.String("app")}, "ValidationException", badPath},
		{"double slash", ssmsdk.GetParametersByPathInput{Path: aws.String("/app//db")}, "ValidationException", badPath},
		{"name filter", ssmsdk.GetParametersByPathInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"x"}}}},
			"InvalidFilterKey", "The following filter key is not valid: Name. Valid filter keys include: [Type, KeyId]."},
		{"path filter", ssmsdk.GetParametersByPathInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Path"), Values: []string{"/x"}}}},
			"InvalidFilterKey", "The following filter key is not valid: Path. Valid filter keys include: [Type, KeyId]."},
		{"label option", ssmsdk.GetParametersByPathInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Label"), Option: aws.String("BeginsWith"), Values: []string{"x"}}}},
			"InvalidFilterOption", "The following filter option is not valid: BeginsWith. Valid options include: [Equals]."},
		{"bad type", ssmsdk.GetParametersByPathInput{ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"Str"}}}},
			"InvalidFilterValue", "The following filter value is not valid: Str. Valid values include: [String, StringList, SecureString]."},
		{"too many results", ssmsdk.GetParametersByPathInput{MaxResults: aws.Int32(11)}, "ValidationException",
			"1 validation error detected: Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10"},
		{"bad token", ssmsdk.GetParametersByPathInput{NextToken: aws.String("!!")}, "InvalidNextToken", "The specified token isn't valid."},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.Path == nil {
				in.Path = aws.String("/app")
			}
			_, err := c.ssm.GetParametersByPath(ctx, &in)
			checkErr(t, err, tc.code, tc.msg)
		})
	}
}

func TestDescribeParameters(t *testing.T) {
	c := newCloud(t)
	seed(t, c)
	describe := func(in *ssmsdk.DescribeParametersInput) []types.ParameterMetadata {
		t.Helper()
		return must[*ssmsdk.DescribeParametersOutput](t)(c.ssm.DescribeParameters(ctx, in)).Parameters
	}
	mdNames := func(ps []types.ParameterMetadata) string {
		var out []string
		for _, p := range ps {
			out = append(out, aws.ToString(p.Name))
		}
		return strings.Join(out, " ")
	}
	f := func(key, option string, values ...string) types.ParameterStringFilter {
		ft := types.ParameterStringFilter{Key: aws.String(key), Values: values}
		if option != "" {
			ft.Option = aws.String(option)
		}
		return ft
	}
	cases := []struct {
		name    string
		filters []types.ParameterStringFilter
		want    string
	}{
		{"all", nil, "/app/db/host /app/db/pass /app/deep/a/b /app/name /other/x top"},
		{"name equals", []types.ParameterStringFilter{f("Name", "", "/app/name", "top")}, "/app/name top"},
		{"name without its slash", []types.ParameterStringFilter{f("Name", "Equals", "app/name")}, "/app/name"},
		{"name begins", []types.ParameterStringFilter{f("Name", "BeginsWith", "/app/d")}, "/app/db/host /app/db/pass /app/deep/a/b"},
		{"name contains", []types.ParameterStringFilter{f("Name", "Contains", "a")}, "/app/db/host /app/db/pass /app/deep/a/b /app/name"},
		{"type", []types.ParameterStringFilter{f("Type", "", "String")}, "/app/db/host /app/deep/a/b /other/x top"},
		{"key id", []types.ParameterStringFilter{f("KeyId", "", "alias/app")}, "/app/db/pass"},
		{"path one level", []types.ParameterStringFilter{f("Path", "", "/app")}, "/app/name"},
		{"path recursive", []types.ParameterStringFilter{f("Path", "Recursive", "/app/db", "/other")}, "/app/db/host /app/db/pass /other/x"},
		{"tier", []types.ParameterStringFilter{f("Tier", "", "Advanced")}, "/app/db/pass"},
		{"data type", []types.ParameterStringFilter{f("DataType", "", "aws:ec2:image")}, "/app/deep/a/b"},
		{"tag key", []types.ParameterStringFilter{f("tag:env", "")}, "/app/db/host /other/x"},
		{"tag value", []types.ParameterStringFilter{f("tag:env", "", "prod")}, "/app/db/host"},
		{"tag begins", []types.ParameterStringFilter{f("tag:env", "BeginsWith", "d")}, "/other/x"},
		{"and", []types.ParameterStringFilter{f("Path", "Recursive", "/app"), f("Type", "", "String")}, "/app/db/host /app/deep/a/b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := mdNames(describe(&ssmsdk.DescribeParametersInput{ParameterFilters: tc.filters})); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	legacy := describe(&ssmsdk.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"/app/db"}}}})
	if got := mdNames(legacy); got != "/app/db/host /app/db/pass" {
		t.Errorf("legacy Name filter: %q", got)
	}
	legacy = describe(&ssmsdk.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyType, Values: []string{"StringList"}}}})
	if got := mdNames(legacy); got != "/app/name" {
		t.Errorf("legacy Type filter: %q", got)
	}

	// What a parameter's metadata shows.
	md := describe(&ssmsdk.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Name", "", "/app/db/pass")}})[0]
	if md.Type != types.ParameterTypeSecureString || aws.ToString(md.KeyId) != "alias/app" || md.Tier != types.ParameterTierAdvanced ||
		md.Version != 1 || aws.ToString(md.ARN) != "arn:aws:ssm:eu-west-3:000000000000:parameter/app/db/pass" || aws.ToString(md.DataType) != "text" ||
		md.Policies == nil || md.LastModifiedDate == nil {
		t.Errorf("metadata: %+v", md)
	}

	// Paging.
	var all []string
	var token *string
	for {
		out := must[*ssmsdk.DescribeParametersOutput](t)(c.ssm.DescribeParameters(ctx, &ssmsdk.DescribeParametersInput{MaxResults: aws.Int32(4), NextToken: token}))
		for _, p := range out.Parameters {
			all = append(all, aws.ToString(p.Name))
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(all) != 6 {
		t.Errorf("paged: %v", all)
	}

	errs := []struct {
		name      string
		in        ssmsdk.DescribeParametersInput
		code, msg string
	}{
		{"both filter kinds", ssmsdk.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"a"}}},
			ParameterFilters: []types.ParameterStringFilter{f("Name", "", "a")}}, "ValidationException", "You can use either Filters or ParameterFilters in a single request."},
		{"label", ssmsdk.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Label", "", "a")}},
			"InvalidFilterKey", "The following filter key is not valid: Label. Valid filter keys include: [Path, Name, Type, KeyId, Tier]."},
		{"unknown key", ssmsdk.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Colour", "", "a")}},
			"ValidationException", "1 validation error detected: Value 'Colour' at 'parameterFilters.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType"},
		{"duplicate", ssmsdk.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Name", "", "a"), f("Name", "", "b")}},
			"InvalidFilterKey", "The following filter is duplicated in the request: Name. A request can contain only one occurrence of a specific filter."},
		{"no values", ssmsdk.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Type", "")}},
			"InvalidFilterValue", "The following filter values are missing : null for filter key Type."},
		{"path option", ssmsdk.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Path", "Equals", "/app")}},
			"InvalidFilterOption", "The following filter option is not valid: Equals. Valid options include: [Recursive, OneLevel]."},
		{"type option", ssmsdk.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Type", "Contains", "String")}},
			"InvalidFilterOption", "The following filter option is not valid: Contains. Valid options include: [BeginsWith, Equals]."},
		{"tier value", ssmsdk.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Tier", "", "Gold")}},
			"InvalidFilterValue", "The following filter value is not valid: Gold. Valid values include: [Standard, Advanced, Intelligent-Tiering]."},
		{"public path", ssmsdk.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Path", "", "/aws/service")}},
			"ValidationException", `Filters for common parameters can't be prefixed with "aws" or "ssm" (case-insensitive). When using global parameters, please specify within a global namespace.`},
		{"bad token", ssmsdk.DescribeParametersInput{NextToken: aws.String("eA")}, "InvalidNextToken", "The specified token isn't valid."},
		{"too many results", ssmsdk.DescribeParametersInput{MaxResults: aws.Int32(51)}, "ValidationException",
			"1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ssm.DescribeParameters(ctx, &tc.in)
			checkErr(t, err, tc.code, tc.msg)
		})
	}
}
