package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The SSM error messages the clients print, as AWS gives them.
const (
	ssmAlreadyExists = "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."
	ssmBadName       = `Parameter name: can't be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`
	ssmLabelKey      = "The following filter key is not valid: Label. Valid filter keys include: [Path, Name, Type, KeyId, Tier]."
	al2023Param      = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
)

// awsQuery runs the CLI with --query and decodes what it prints.
func (c *Cloud) awsQuery(t *testing.T, cli CLI, cr Creds, query string, args ...string) any {
	t.Helper()
	r := c.aws(t, cli, cr, append(args, "--query", query)...)
	if r.ExitCode != 0 {
		t.Fatalf("%s", r)
	}
	var v any
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r)
	}
	return v
}

// TestSSMParameterStoreCLI drives the Parameter Store with the aws CLI v1
// and v2: versions, labels, paths, SecureString, deletion and the errors as
// the CLI prints them.
func TestSSMParameterStoreCLI(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, Opts{})
	for _, cli := range clis() {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			cli.need(t)
			cr := accountCreds(uniqueAccount())
			ok := func(args ...string) map[string]any {
				t.Helper()
				return c.awsOK(t, cli, cr, append([]string{"ssm"}, args...)...)
			}
			q := func(query string, args ...string) any {
				t.Helper()
				return c.awsQuery(t, cli, cr, query, append([]string{"ssm"}, args...)...)
			}
			fail := func(code, msg string, args ...string) {
				t.Helper()
				e := c.awsErr(t, cli, cr, append([]string{"ssm"}, args...)...)
				if e.Code != code || e.Message != msg {
					t.Errorf("%v: %s %q, want %s %q", args, e.Code, e.Message, code, msg)
				}
			}

			put := ok("put-parameter", "--name", "/shop/db/host", "--value", "db1.internal", "--type", "String", "--description", "the database")
			if put["Version"] != float64(1) || put["Tier"] != "Standard" {
				t.Errorf("put-parameter: %v", put)
			}
			p := ok("get-parameter", "--name", "/shop/db/host")["Parameter"].(map[string]any)
			if p["Value"] != "db1.internal" || p["Type"] != "String" || p["DataType"] != "text" || p["Version"] != float64(1) || !strings.HasSuffix(p["ARN"].(string), ":parameter/shop/db/host") {
				t.Errorf("get-parameter: %v", p)
			}
			fail("ParameterAlreadyExists", ssmAlreadyExists, "put-parameter", "--name", "/shop/db/host", "--value", "db2.internal", "--type", "String")
			if v := ok("put-parameter", "--name", "/shop/db/host", "--value", "db2.internal", "--overwrite")["Version"]; v != float64(2) {
				t.Errorf("overwrite: version %v", v)
			}
			if v := q("Parameter.[Value,Selector,Version]", "get-parameter", "--name", "/shop/db/host:1"); fmt.Sprint(v) != "[db1.internal :1 1]" {
				t.Errorf("get-parameter name:1: %v", v)
			}
			lab := ok("label-parameter-version", "--name", "/shop/db/host", "--parameter-version", "1", "--labels", "prod", "9bad")
			if fmt.Sprint(lab["InvalidLabels"]) != "[9bad]" || lab["ParameterVersion"] != float64(1) {
				t.Errorf("label-parameter-version: %v", lab)
			}
			if v := q("Parameter.Value", "get-parameter", "--name", "/shop/db/host:prod"); v != "db1.internal" {
				t.Errorf("get-parameter name:prod: %v", v)
			}
			if v := q("Parameters[].[Version,Labels]", "get-parameter-history", "--name", "/shop/db/host"); fmt.Sprint(v) != "[[1 [prod]] [2 []]]" {
				t.Errorf("history: %v", v)
			}

			// SecureString, without and with decryption.
			ok("put-parameter", "--name", "/shop/db/password", "--value", "hunter2", "--type", "SecureString")
			enc := q("Parameter.Value", "get-parameter", "--name", "/shop/db/password").(string)
			if !strings.HasPrefix(enc, "AQICAH") || strings.Contains(enc, "hunter2") {
				t.Errorf("SecureString without decryption: %q", enc)
			}
			if v := q("Parameter.Value", "get-parameter", "--name", "/shop/db/password", "--with-decryption"); v != "hunter2" {
				t.Errorf("SecureString with decryption: %v", v)
			}
			if v := q("Parameters[0].KeyId", "describe-parameters", "--parameter-filters", "Key=Name,Values=/shop/db/password"); v != "alias/aws/ssm" {
				t.Errorf("KeyId: %v", v)
			}

			// Paths and filters; the CLI pages through by itself.
			ok("put-parameter", "--name", "/shop/name", "--value", "a,b", "--type", "StringList")
			for i := 0; i < 12; i++ {
				ok("put-parameter", "--name", fmt.Sprintf("/shop/items/i%02d", i), "--value", "x", "--type", "String")
			}
			if v := q("Parameters[].Name", "get-parameters-by-path", "--path", "/shop"); fmt.Sprint(v) != "[/shop/name]" {
				t.Errorf("by path: %v", v)
			}
			if v := q("length(Parameters)", "get-parameters-by-path", "--path", "/shop", "--recursive"); v != float64(15) {
				t.Errorf("by path recursive: %v", v)
			}
			if v := q("Parameters[].Name", "get-parameters-by-path", "--path", "/shop/db", "--parameter-filters", "Key=Type,Values=SecureString"); fmt.Sprint(v) != "[/shop/db/password]" {
				t.Errorf("by path, Type filter: %v", v)
			}
			if v := q("length(Parameters)", "describe-parameters", "--parameter-filters", "Key=Path,Option=Recursive,Values=/shop/items"); v != float64(12) {
				t.Errorf("describe, Path filter: %v", v)
			}
			fail("InvalidFilterKey", ssmLabelKey, "describe-parameters", "--parameter-filters", "Key=Label,Values=prod")

			// get-parameters, and deletion.
			gp := ok("get-parameters", "--names", "/shop/name", "/shop/none", "/shop/db/host:7")
			if len(gp["Parameters"].([]any)) != 1 || fmt.Sprint(gp["InvalidParameters"]) != "[/shop/none /shop/db/host:7]" {
				t.Errorf("get-parameters: %v", gp)
			}
			ok("delete-parameter", "--name", "/shop/name")
			fail("ParameterNotFound", "", "get-parameter", "--name", "/shop/name")
			fail("ParameterNotFound", "", "delete-parameter", "--name", "/shop/name")
			del := ok("delete-parameters", "--names", "/shop/items/i00", "/shop/items/i01", "/shop/none")
			if fmt.Sprint(del["DeletedParameters"], del["InvalidParameters"]) != "[/shop/items/i00 /shop/items/i01] [/shop/none]" {
				t.Errorf("delete-parameters: %v", del)
			}

			// Errors.
			fail("AccessDeniedException", "No access to reserved parameter name: aws/test.", "put-parameter", "--name", "/aws/test", "--value", "v", "--type", "String")
			fail("ValidationException", ssmBadName, "put-parameter", "--name", "shop/no-slash", "--value", "v", "--type", "String")
			fail("ParameterVersionNotFound", "Systems Manager could not find version 9 of /shop/db/host. Verify the version and try again.", "get-parameter", "--name", "/shop/db/host:9")
			fail("ParameterPatternMismatchException", `Parameter value, cannot be validated against allowedPattern: \d{1,4}`,
				"put-parameter", "--name", "/shop/max", "--value", "10,000", "--type", "String", "--allowed-pattern", `\d{1,4}`)
			fail("NotImplemented", "The operation DescribeDocument of service SSM is not implemented by cloudbox", "describe-document", "--name", "AWS-RunShellScript")
		})
	}
}

// TestSSMPublicAMIParameters reads the public AMI parameters the tutorials
// use, with both CLIs: the id is the one EC2 describes for that image in
// that region.
func TestSSMPublicAMIParameters(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, Opts{})
	for _, cli := range clis() {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			cli.need(t)
			for _, region := range []string{"us-east-1", "ap-northeast-2"} {
				cr := accountCreds(uniqueAccount())
				cr.Region = region
				param := c.awsQuery(t, cli, cr, "Parameters[0].Value", "ssm", "get-parameters", "--names", al2023Param)
				images := c.awsQuery(t, cli, cr, "Images[].ImageId", "ec2", "describe-images", "--owners", "amazon",
					"--filters", "Name=name,Values=al2023-ami-2023*x86_64")
				ids, _ := images.([]any)
				if len(ids) != 1 || param != ids[0] {
					t.Errorf("%s: the parameter says %v, describe-images %v", region, param, images)
				}
				p := c.awsOK(t, cli, cr, "ssm", "get-parameter", "--name", "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2")["Parameter"].(map[string]any)
				if p["ARN"] != "arn:aws:ssm:"+region+"::parameter/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2" || p["Type"] != "String" || !strings.HasPrefix(p["Value"].(string), "ami-") {
					t.Errorf("%s: amzn2: %v", region, p)
				}
				names := c.awsQuery(t, cli, cr, "Parameters[].Name", "ssm", "get-parameters-by-path", "--path", "/aws/service/ami-amazon-linux-latest")
				if !strings.Contains(fmt.Sprint(names), al2023Param) {
					t.Errorf("%s: by path: %v", region, names)
				}
				if n := c.awsQuery(t, cli, cr, "length(Parameters)", "ssm", "describe-parameters"); n != float64(0) {
					t.Errorf("%s: describe-parameters lists %v public parameters", region, n)
				}
				e := c.awsErr(t, cli, cr, "ssm", "put-parameter", "--name", al2023Param, "--value", "ami-12345678", "--type", "String", "--overwrite")
				if e.Code != "AccessDeniedException" || e.Message != "No access to reserved parameter name: "+strings.TrimPrefix(al2023Param, "/")+"." {
					t.Errorf("%s: put on a public parameter: %+v", region, e)
				}
			}
		})
	}
}

// TestSSMBoto3 drives the Parameter Store with boto3: paginators, labels,
// SecureString, tags, the public parameters, and the errors as boto3
// reports them (with the messages aws-sdk-go-v2 does not read).
func TestSSMBoto3(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, Opts{})
	var out map[string]any
	c.python(t, accountCreds(uniqueAccount()), `
ssm = client("ssm")
ec2 = client("ec2")
r = {}
r["put"] = call(ssm.put_parameter, Name="/app/url", Value="v1", Type="String", Tags=[{"Key": "env", "Value": "prod"}])
r["exists"] = call(ssm.put_parameter, Name="/app/url", Value="v2", Type="String")
r["overwrite"] = call(ssm.put_parameter, Name="/app/url", Value="v2", Overwrite=True)
r["label"] = call(ssm.label_parameter_version, Name="/app/url", ParameterVersion=1, Labels=["stable"])
r["by_label"] = call(ssm.get_parameter, Name="/app/url:stable")
r["by_version"] = call(ssm.get_parameter, Name="/app/url:2")
r["unlabel"] = call(ssm.unlabel_parameter_version, Name="/app/url", ParameterVersion=1, Labels=["stable", "other"])
r["secure"] = call(ssm.put_parameter, Name="/app/key", Value="s3cret", Type="SecureString", KeyId="alias/app-key")
r["secure_enc"] = call(ssm.get_parameter, Name="/app/key")
r["secure_dec"] = call(ssm.get_parameter, Name="/app/key", WithDecryption=True)
for i in range(25):
    ssm.put_parameter(Name="/app/many/p%02d" % i, Value=str(i), Type="String")
r["path_pages"] = [len(p["Parameters"]) for p in ssm.get_paginator("get_parameters_by_path").paginate(Path="/app/many", PaginationConfig={"PageSize": 10})]
r["describe_total"] = sum(len(p["Parameters"]) for p in ssm.get_paginator("describe_parameters").paginate(PaginationConfig={"PageSize": 7}))
r["tags"] = call(ssm.list_tags_for_resource, ResourceType="Parameter", ResourceId="/app/url")
r["tag_missing"] = call(ssm.list_tags_for_resource, ResourceType="Parameter", ResourceId="/app/none")
r["too_many_tags"] = call(ssm.add_tags_to_resource, ResourceType="Parameter", ResourceId="/app/url", Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(50)])
r["dup_filter"] = call(ssm.describe_parameters, ParameterFilters=[{"Key": "Name", "Values": ["a"]}, {"Key": "Name", "Values": ["b"]}])
r["path_filter"] = call(ssm.get_parameters_by_path, Path="/app", ParameterFilters=[{"Key": "Path", "Values": ["/app"]}])
r["not_found"] = call(ssm.get_parameter, Name="/app/none")
r["reserved"] = call(ssm.put_parameter, Name="awsthing", Value="v", Type="String")
r["too_deep"] = call(ssm.put_parameter, Name="/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", Value="v", Type="String")
r["big"] = call(ssm.put_parameter, Name="/app/big", Value="x" * 5000, Type="String")
r["big_advanced"] = call(ssm.put_parameter, Name="/app/big", Value="x" * 5000, Type="String", Tier="Advanced")
r["public"] = call(ssm.get_parameters, Names=[ARGS["al2023"]])
r["image"] = call(ec2.describe_images, Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-2023*x86_64"]}])
r["delete"] = call(ssm.delete_parameter, Name="/app/url")
r["deleted"] = call(ssm.get_parameter, Name="/app/url")
emit(r)
`, map[string]any{"al2023": al2023Param}, &out)
	result := func(name string) map[string]any {
		t.Helper()
		var r PyCall
		b, _ := json.Marshal(out[name])
		json.Unmarshal(b, &r)
		if r.Error != nil {
			t.Fatalf("%s: %+v", name, r.Error)
		}
		return r.Result
	}
	wantErr := func(name, code, msg string) {
		t.Helper()
		var r PyCall
		b, _ := json.Marshal(out[name])
		json.Unmarshal(b, &r)
		if r.Error == nil || r.Error.Code != code || r.Error.Message != msg || r.Status != 400 {
			t.Errorf("%s: %+v, want 400 %s %q", name, r, code, msg)
		}
	}
	if v := result("overwrite")["Version"]; v != float64(2) {
		t.Errorf("overwrite: version %v", v)
	}
	wantErr("exists", "ParameterAlreadyExists", ssmAlreadyExists)
	if p := result("by_label")["Parameter"].(map[string]any); p["Value"] != "v1" || p["Selector"] != ":stable" {
		t.Errorf("by label: %v", p)
	}
	if p := result("by_version")["Parameter"].(map[string]any); p["Value"] != "v2" || p["Version"] != float64(2) {
		t.Errorf("by version: %v", p)
	}
	if u := result("unlabel"); fmt.Sprint(u["RemovedLabels"], u["InvalidLabels"]) != "[stable] [other]" {
		t.Errorf("unlabel: %v", u)
	}
	enc := result("secure_enc")["Parameter"].(map[string]any)["Value"].(string)
	if !strings.HasPrefix(enc, "AQICAH") || result("secure_dec")["Parameter"].(map[string]any)["Value"] != "s3cret" {
		t.Errorf("SecureString: %q", enc)
	}
	var pages []int
	for _, n := range out["path_pages"].([]any) {
		pages = append(pages, int(n.(float64)))
	}
	if fmt.Sprint(pages) != "[10 10 5]" {
		t.Errorf("by-path pages %v", pages)
	}
	if out["describe_total"] != float64(27) {
		t.Errorf("describe_parameters over pages: %v", out["describe_total"])
	}
	if tags := result("tags")["TagList"]; fmt.Sprint(tags) != "[map[Key:env Value:prod]]" {
		t.Errorf("tags %v", tags)
	}
	wantErr("tag_missing", "InvalidResourceId", "")
	wantErr("too_many_tags", "TooManyTagsError", "A parameter can have at most 50 tags.")
	wantErr("dup_filter", "InvalidFilterKey", "The following filter is duplicated in the request: Name. A request can contain only one occurrence of a specific filter.")
	wantErr("path_filter", "InvalidFilterKey", "The following filter key is not valid: Path. Valid filter keys include: [Type, KeyId].")
	wantErr("not_found", "ParameterNotFound", "")
	wantErr("reserved", "AccessDeniedException", "No access to reserved parameter name: awsthing.")
	wantErr("too_deep", "HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the Amazon Web Services Systems Manager User Guide.")
	wantErr("big", "ValidationException", "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html")
	if v := result("big_advanced")["Tier"]; v != "Advanced" {
		t.Errorf("advanced put: tier %v", v)
	}
	params := result("public")["Parameters"].([]any)
	images := result("image")["Images"].([]any)
	if len(params) != 1 || len(images) != 1 || params[0].(map[string]any)["Value"] != images[0].(map[string]any)["ImageId"] {
		t.Errorf("public parameter %v, images %v", params, images)
	}
	result("delete")
	wantErr("deleted", "ParameterNotFound", "")
}
