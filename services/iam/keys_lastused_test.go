package iam_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	stssdk "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/cloudbox/cloudbox/server"
)

// TestAccessKeyLastUsed: a key never used answers N/A; once it signs a
// request, its minute, service and region; a deleted key is forgotten.
func TestAccessKeyLastUsed(t *testing.T) {
	for _, auth := range []string{server.AuthOff, server.AuthStrict} {
		t.Run(auth, func(t *testing.T) {
			t.Parallel()
			c := newCloud(t, auth)
			must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("kim")}))
			k := must[*iamsdk.CreateAccessKeyOutput](t)(c.iam.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("kim")})).AccessKey
			id := k.AccessKeyId
			last := must[*iamsdk.GetAccessKeyLastUsedOutput](t)(c.iam.GetAccessKeyLastUsed(ctx, &iamsdk.GetAccessKeyLastUsedInput{AccessKeyId: id}))
			if u := last.AccessKeyLastUsed; aws.ToString(last.UserName) != "kim" || aws.ToString(u.ServiceName) != "N/A" || aws.ToString(u.Region) != "N/A" || u.LastUsedDate != nil {
				t.Fatalf("never used: %+v", u)
			}

			before := time.Now().UTC().Truncate(time.Minute)
			must[*stssdk.GetCallerIdentityOutput](t)(c.stsAs(aws.ToString(id), aws.ToString(k.SecretAccessKey)).GetCallerIdentity(ctx, &stssdk.GetCallerIdentityInput{}))
			after := time.Now().UTC()
			last = must[*iamsdk.GetAccessKeyLastUsedOutput](t)(c.iam.GetAccessKeyLastUsed(ctx, &iamsdk.GetAccessKeyLastUsedInput{AccessKeyId: id}))
			u := last.AccessKeyLastUsed
			if aws.ToString(u.ServiceName) != "sts" || aws.ToString(u.Region) != region || u.LastUsedDate == nil {
				t.Fatalf("used: %+v", u)
			}
			if d := *u.LastUsedDate; d.Before(before) || d.After(after) || !d.Equal(d.Truncate(time.Minute)) {
				t.Errorf("LastUsedDate %v, want the minute between %v and %v", d, before, after)
			}
			// The key's listing is unchanged by its use.
			keys := must[*iamsdk.ListAccessKeysOutput](t)(c.iam.ListAccessKeys(ctx, &iamsdk.ListAccessKeysInput{UserName: aws.String("kim")})).AccessKeyMetadata
			if len(keys) != 1 || aws.ToString(keys[0].AccessKeyId) != aws.ToString(id) {
				t.Errorf("list-access-keys: %+v", keys)
			}

			must[*iamsdk.DeleteAccessKeyOutput](t)(c.iam.DeleteAccessKey(ctx, &iamsdk.DeleteAccessKeyInput{UserName: aws.String("kim"), AccessKeyId: id}))
			_, err := c.iam.GetAccessKeyLastUsed(ctx, &iamsdk.GetAccessKeyLastUsedInput{AccessKeyId: id})
			wantErr(t, err, "NoSuchEntity", 404, "The Access Key with id "+aws.ToString(id)+" cannot be found.")
		})
	}
}
