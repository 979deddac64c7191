package modelederrors_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec "github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
)

func TestElastiCacheErrors(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := ec.NewFromConfig(c.cfg())
	pg := &ec.CreateCacheParameterGroupInput{CacheParameterGroupName: aws.String("taken"), CacheParameterGroupFamily: aws.String("redis7"), Description: aws.String("taken")}
	if _, err := cl.CreateCacheParameterGroup(context.Background(), pg); err != nil {
		t.Fatal(err)
	}
	c.check(t, "elasticache", []modeled{
		{"ReplicationGroupNotFoundFault", func(ctx context.Context) error {
			_, err := cl.DescribeReplicationGroups(ctx, &ec.DescribeReplicationGroupsInput{ReplicationGroupId: aws.String("none")})
			return err
		}, is[types.ReplicationGroupNotFoundFault], `c.describe_replication_groups(ReplicationGroupId="none")`},
		{"CacheClusterNotFoundFault", func(ctx context.Context) error {
			_, err := cl.DescribeCacheClusters(ctx, &ec.DescribeCacheClustersInput{CacheClusterId: aws.String("none")})
			return err
		}, is[types.CacheClusterNotFoundFault], `c.describe_cache_clusters(CacheClusterId="none")`},
		{"CacheSubnetGroupNotFoundFault", func(ctx context.Context) error {
			_, err := cl.DescribeCacheSubnetGroups(ctx, &ec.DescribeCacheSubnetGroupsInput{CacheSubnetGroupName: aws.String("none")})
			return err
		}, is[types.CacheSubnetGroupNotFoundFault], `c.describe_cache_subnet_groups(CacheSubnetGroupName="none")`},
		{"CacheParameterGroupNotFoundFault", func(ctx context.Context) error {
			_, err := cl.DescribeCacheParameters(ctx, &ec.DescribeCacheParametersInput{CacheParameterGroupName: aws.String("none")})
			return err
		}, is[types.CacheParameterGroupNotFoundFault], `c.describe_cache_parameters(CacheParameterGroupName="none")`},
		{"CacheParameterGroupAlreadyExistsFault", func(ctx context.Context) error {
			_, err := cl.CreateCacheParameterGroup(ctx, pg)
			return err
		}, is[types.CacheParameterGroupAlreadyExistsFault], `c.create_cache_parameter_group(CacheParameterGroupName="taken", CacheParameterGroupFamily="redis7", Description="taken")`},
		{"InvalidParameterValueException", func(ctx context.Context) error {
			_, err := cl.CreateCacheParameterGroup(ctx, &ec.CreateCacheParameterGroupInput{CacheParameterGroupName: aws.String("odd"), CacheParameterGroupFamily: aws.String("redis0"), Description: aws.String("odd")})
			return err
		}, is[types.InvalidParameterValueException], `c.create_cache_parameter_group(CacheParameterGroupName="odd", CacheParameterGroupFamily="redis0", Description="odd")`},
		{"SnapshotNotFoundFault", func(ctx context.Context) error {
			_, err := cl.DeleteSnapshot(ctx, &ec.DeleteSnapshotInput{SnapshotName: aws.String("none")})
			return err
		}, is[types.SnapshotNotFoundFault], `c.delete_snapshot(SnapshotName="none")`},
	})
}
