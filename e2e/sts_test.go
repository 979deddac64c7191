package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// py is the credentials dict boto3 snippets take.
func (c Creds) py() map[string]string {
	m := map[string]string{"AccessKeyId": c.AccessKeyID, "SecretAccessKey": c.SecretAccessKey}
	if c.SessionToken != "" {
		m["SessionToken"] = c.SessionToken
	}
	return m
}

// credsFrom reads an STS Credentials structure (CLI or boto3 JSON).
func credsFrom(t *testing.T, v any) Creds {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("no Credentials in %v", v)
	}
	cr := Creds{}
	cr.AccessKeyID, _ = m["AccessKeyId"].(string)
	cr.SecretAccessKey, _ = m["SecretAccessKey"].(string)
	cr.SessionToken, _ = m["SessionToken"].(string)
	if !strings.HasPrefix(cr.AccessKeyID, "ASIA") || cr.SecretAccessKey == "" || cr.SessionToken == "" {
		t.Fatalf("temporary credentials look wrong: %v", m)
	}
	if e, _ := m["Expiration"].(string); e == "" {
		t.Fatalf("temporary credentials have no Expiration: %v", m)
	}
	return cr
}

// wrongToken is the session token with its last character changed.
func wrongToken(tok string) string {
	last := "A"
	if strings.HasSuffix(tok, "A") {
		last = "B"
	}
	return tok[:len(tok)-1] + last
}

// Identity is a GetCallerIdentity answer.
type Identity struct{ Account, Arn, UserID string }

func identityFrom(m map[string]any) Identity {
	s := func(k string) string { v, _ := m[k].(string); return v }
	return Identity{Account: s("Account"), Arn: s("Arn"), UserID: s("UserId")}
}

func checkIdentity(t *testing.T, got Identity, account, arn, userIDPrefix string) {
	t.Helper()
	if got.Account != account || got.Arn != arn || !strings.HasPrefix(got.UserID, userIDPrefix) || got.UserID == "" {
		t.Errorf("caller identity = %+v, want account %s, arn %s, user id %s...", got, account, arn, userIDPrefix)
	}
}

// 1. GetCallerIdentity: the default account, an account picked by a
// 12-digit key, and a user from the keys file.
func TestGetCallerIdentity(t *testing.T) {
	t.Parallel()
	alice := Key{AccessKeyID: "AKIAALICE00000000001", SecretAccessKey: "alice-secret", Account: "111111111111", User: "alice"}
	c := startInProcess(t, Opts{Keys: []Key{alice}})

	cases := []struct {
		name                 string
		creds                Creds
		account, arn, userID string // userID: expected prefix
	}{
		{"default", testCreds, "000000000000", "arn:aws:iam::000000000000:root", "000000000000"},
		{"account-key", accountCreds("123456789012"), "123456789012", "arn:aws:iam::123456789012:root", "123456789012"},
		{"keys-file-user", alice.Creds(), "111111111111", "arn:aws:iam::111111111111:user/alice", "AIDA"},
	}

	for _, cli := range clis() {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			cli.need(t)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					out := c.awsOK(t, cli, tc.creds, "sts", "get-caller-identity")
					checkIdentity(t, identityFrom(out), tc.account, tc.arn, tc.userID)
				})
			}
		})
	}

	t.Run("boto3", func(t *testing.T) {
		t.Parallel()
		args := map[string]any{}
		for _, tc := range cases {
			args[tc.name] = tc.creds.py()
		}
		out := c.boto(t, testCreds, `
emit({name: call(client("sts", cr).get_caller_identity) for name, cr in ARGS.items()})
`, args)
		for _, tc := range cases {
			r := out[tc.name]
			if r.Error != nil || r.Status != 200 {
				t.Errorf("%s: %+v", tc.name, r)
				continue
			}
			checkIdentity(t, identityFrom(r.Result), tc.account, tc.arn, tc.userID)
		}
	})

	t.Run("sdk-go-v2", func(t *testing.T) {
		t.Parallel()
		for _, tc := range cases {
			out, err := sts.NewFromConfig(c.sdk(tc.creds)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			got := Identity{aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId)}
			checkIdentity(t, got, tc.account, tc.arn, tc.userID)
		}
	})
}

// 2. AssumeRole, then GetCallerIdentity with the role's credentials; in
// strict mode the session token must come with them, and be the right one.
func TestAssumeRole(t *testing.T) {
	t.Parallel()
	const roleAccount = "222222222222"
	roleARN := "arn:aws:iam::" + roleAccount + ":role/deployer"

	for _, mode := range []string{"off", "strict"} {
		t.Run("auth-"+mode, func(t *testing.T) {
			t.Parallel()
			strict := mode == "strict"
			c := startInProcess(t, Opts{Auth: mode})
			want := func(session string) string {
				return "arn:aws:sts::" + roleAccount + ":assumed-role/deployer/" + session
			}

			for _, cli := range clis() {
				t.Run(cli.Name, func(t *testing.T) {
					t.Parallel()
					cli.need(t)
					session := "e2e-" + cli.Name
					out := c.awsOK(t, cli, testCreds, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", session)
					user, _ := out["AssumedRoleUser"].(map[string]any)
					if user["Arn"] != want(session) {
						t.Errorf("AssumedRoleUser = %v, want Arn %s", user, want(session))
					}
					cr := credsFrom(t, out["Credentials"])
					who := identityFrom(c.awsOK(t, cli, cr, "sts", "get-caller-identity"))
					checkIdentity(t, who, roleAccount, want(session), "AROA")
					if id, _ := user["AssumedRoleId"].(string); who.UserID != id {
						t.Errorf("UserId %q != AssumedRoleId %q", who.UserID, id)
					}
					if !strict {
						return
					}
					noToken := cr
					noToken.SessionToken = ""
					if e := c.awsErr(t, cli, noToken, "sts", "get-caller-identity"); e.Code != "InvalidClientTokenId" {
						t.Errorf("without the session token: %+v, want InvalidClientTokenId", e)
					}
					bad := cr
					bad.SessionToken = wrongToken(cr.SessionToken)
					if e := c.awsErr(t, cli, bad, "sts", "get-caller-identity"); e.Code != "InvalidClientTokenId" {
						t.Errorf("with a wrong session token: %+v, want InvalidClientTokenId", e)
					}
				})
			}

			t.Run("boto3", func(t *testing.T) {
				t.Parallel()
				session := "e2e-boto3"
				out := c.boto(t, testCreds, `
sts = client("sts")
ar = call(sts.assume_role, RoleArn=ARGS["role"], RoleSessionName=ARGS["session"])
out = {"assume": ar}
if "result" in ar:
    cr = ar["result"]["Credentials"]
    out["whoami"] = call(client("sts", cr).get_caller_identity)
    if ARGS["strict"]:
        out["no_token"] = call(client("sts", dict(cr, SessionToken=None)).get_caller_identity)
        tok = cr["SessionToken"]
        out["wrong_token"] = call(client("sts", dict(cr, SessionToken=tok[:-1] + ("B" if tok.endswith("A") else "A"))).get_caller_identity)
emit(out)
`, map[string]any{"role": roleARN, "session": session, "strict": strict})
				ar := out["assume"]
				if ar.Error != nil || ar.Status != 200 {
					t.Fatalf("AssumeRole: %+v", ar)
				}
				user, _ := ar.Result["AssumedRoleUser"].(map[string]any)
				if user["Arn"] != want(session) {
					t.Errorf("AssumedRoleUser = %v, want Arn %s", user, want(session))
				}
				credsFrom(t, ar.Result["Credentials"])
				who := out["whoami"]
				if who.Error != nil {
					t.Fatalf("GetCallerIdentity with the role's credentials: %+v", who)
				}
				checkIdentity(t, identityFrom(who.Result), roleAccount, want(session), "AROA")
				if strict {
					for _, k := range []string{"no_token", "wrong_token"} {
						if r := out[k]; r.Error == nil || r.Error.Code != "InvalidClientTokenId" || r.Status != 403 {
							t.Errorf("%s: %+v, want 403 InvalidClientTokenId", k, r)
						}
					}
				}
			})

			t.Run("sdk-go-v2", func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				session := "e2e-sdk-go-v2"
				ar, err := sts.NewFromConfig(c.sdk(testCreds)).AssumeRole(ctx, &sts.AssumeRoleInput{
					RoleArn: aws.String(roleARN), RoleSessionName: aws.String(session),
				})
				if err != nil {
					t.Fatal(err)
				}
				if got := aws.ToString(ar.AssumedRoleUser.Arn); got != want(session) {
					t.Errorf("AssumedRoleUser.Arn = %s, want %s", got, want(session))
				}
				cr := Creds{
					AccessKeyID:     aws.ToString(ar.Credentials.AccessKeyId),
					SecretAccessKey: aws.ToString(ar.Credentials.SecretAccessKey),
					SessionToken:    aws.ToString(ar.Credentials.SessionToken),
				}
				if ar.Credentials.Expiration == nil || !strings.HasPrefix(cr.AccessKeyID, "ASIA") {
					t.Errorf("credentials look wrong: %+v", ar.Credentials)
				}
				out, err := sts.NewFromConfig(c.sdk(cr)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				if err != nil {
					t.Fatal(err)
				}
				checkIdentity(t, Identity{aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId)}, roleAccount, want(session), "AROA")
				if !strict {
					return
				}
				for name, tok := range map[string]string{"no token": "", "wrong token": wrongToken(cr.SessionToken)} {
					bad := cr
					bad.SessionToken = tok
					_, err := sts.NewFromConfig(c.sdk(bad)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
					if e := sdkErr(t, err); e.Code != "InvalidClientTokenId" || e.Status != 403 {
						t.Errorf("%s: %+v, want 403 InvalidClientTokenId", name, e)
					}
				}
			})
		})
	}
}

// 3. GetSessionToken works for long-term keys; its credentials authenticate
// (strict mode) and may not call GetSessionToken again (AccessDenied), nor
// may assumed-role credentials.
func TestGetSessionToken(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, Opts{Auth: "strict"})
	const rootARN = "arn:aws:iam::000000000000:root"
	roleARN := "arn:aws:iam::333333333333:role/ops"

	for _, cli := range clis() {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			cli.need(t)
			out := c.awsOK(t, cli, testCreds, "sts", "get-session-token", "--duration-seconds", "900")
			cr := credsFrom(t, out["Credentials"])
			checkIdentity(t, identityFrom(c.awsOK(t, cli, cr, "sts", "get-caller-identity")), "000000000000", rootARN, "")
			if e := c.awsErr(t, cli, cr, "sts", "get-session-token"); e.Code != "AccessDenied" || e.Operation != "GetSessionToken" {
				t.Errorf("GetSessionToken with session credentials: %+v, want AccessDenied", e)
			}
			role := credsFrom(t, c.awsOK(t, cli, testCreds, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "gst")["Credentials"])
			if e := c.awsErr(t, cli, role, "sts", "get-session-token"); e.Code != "AccessDenied" {
				t.Errorf("GetSessionToken with assumed-role credentials: %+v, want AccessDenied", e)
			}
		})
	}

	t.Run("boto3", func(t *testing.T) {
		t.Parallel()
		out := c.boto(t, testCreds, `
out = {"gst": call(client("sts").get_session_token, DurationSeconds=900)}
if "result" in out["gst"]:
    cr = out["gst"]["result"]["Credentials"]
    out["whoami"] = call(client("sts", cr).get_caller_identity)
    out["again"] = call(client("sts", cr).get_session_token)
ar = call(client("sts").assume_role, RoleArn=ARGS["role"], RoleSessionName="gst")
if "result" in ar:
    out["from_role"] = call(client("sts", ar["result"]["Credentials"]).get_session_token)
emit(out)
`, map[string]any{"role": roleARN})
		if r := out["gst"]; r.Error != nil || r.Status != 200 {
			t.Fatalf("GetSessionToken: %+v", r)
		}
		credsFrom(t, out["gst"].Result["Credentials"])
		if r := out["whoami"]; r.Error != nil {
			t.Errorf("GetCallerIdentity with session credentials: %+v", r)
		} else {
			checkIdentity(t, identityFrom(r.Result), "000000000000", rootARN, "")
		}
		for _, k := range []string{"again", "from_role"} {
			if r := out[k]; r.Error == nil || r.Error.Code != "AccessDenied" || r.Status != 403 {
				t.Errorf("%s: %+v, want 403 AccessDenied", k, r)
			}
		}
	})

	t.Run("sdk-go-v2", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		gst, err := sts.NewFromConfig(c.sdk(testCreds)).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
		if err != nil {
			t.Fatal(err)
		}
		cr := Creds{AccessKeyID: aws.ToString(gst.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(gst.Credentials.SecretAccessKey), SessionToken: aws.ToString(gst.Credentials.SessionToken)}
		who, err := sts.NewFromConfig(c.sdk(cr)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		checkIdentity(t, Identity{aws.ToString(who.Account), aws.ToString(who.Arn), aws.ToString(who.UserId)}, "000000000000", rootARN, "")
		_, err = sts.NewFromConfig(c.sdk(cr)).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		if e := sdkErr(t, err); e.Code != "AccessDenied" || e.Status != 403 {
			t.Errorf("GetSessionToken with session credentials: %+v, want 403 AccessDenied", e)
		}
		ar, err := sts.NewFromConfig(c.sdk(testCreds)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("gst")})
		if err != nil {
			t.Fatal(err)
		}
		role := Creds{AccessKeyID: aws.ToString(ar.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(ar.Credentials.SecretAccessKey), SessionToken: aws.ToString(ar.Credentials.SessionToken)}
		_, err = sts.NewFromConfig(c.sdk(role)).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		if e := sdkErr(t, err); e.Code != "AccessDenied" || e.Status != 403 {
			t.Errorf("GetSessionToken with assumed-role credentials: %+v, want 403 AccessDenied", e)
		}
	})
}
