package modelederrors_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

func TestRDSErrors(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	ctx := context.Background()
	cl := rdssdk.NewFromConfig(c.cfg())
	// The default VPC (and its subnets, where the instance goes) is made on
	// the account's first EC2 call in the region.
	if _, err := ec2sdk.NewFromConfig(c.cfg()).DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
	db := &rdssdk.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("taken"), Engine: aws.String("mysql"), DBInstanceClass: aws.String("db.t3.micro"),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("Secret-pass-1"), AllocatedStorage: aws.Int32(20)}
	if _, err := cl.CreateDBInstance(ctx, db); err != nil {
		t.Fatal(err)
	}
	pg := &rdssdk.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("taken"), DBParameterGroupFamily: aws.String("mysql8.0"), Description: aws.String("taken")}
	if _, err := cl.CreateDBParameterGroup(ctx, pg); err != nil {
		t.Fatal(err)
	}
	const pyDB = `c.create_db_instance(DBInstanceIdentifier="taken", Engine="mysql", DBInstanceClass="db.t3.micro", MasterUsername="admin", MasterUserPassword="Secret-pass-1", AllocatedStorage=20)`
	c.check(t, "rds", []modeled{
		{"DBInstanceNotFoundFault", func(ctx context.Context) error {
			_, err := cl.DescribeDBInstances(ctx, &rdssdk.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("none")})
			return err
		}, is[types.DBInstanceNotFoundFault], `c.describe_db_instances(DBInstanceIdentifier="none")`},
		{"DBInstanceAlreadyExistsFault", func(ctx context.Context) error {
			_, err := cl.CreateDBInstance(ctx, db)
			return err
		}, is[types.DBInstanceAlreadyExistsFault], pyDB},
		{"DBSubnetGroupNotFoundFault", func(ctx context.Context) error {
			_, err := cl.DescribeDBSubnetGroups(ctx, &rdssdk.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("none")})
			return err
		}, is[types.DBSubnetGroupNotFoundFault], `c.describe_db_subnet_groups(DBSubnetGroupName="none")`},
		{"DBParameterGroupNotFoundFault", func(ctx context.Context) error {
			_, err := cl.DescribeDBParameters(ctx, &rdssdk.DescribeDBParametersInput{DBParameterGroupName: aws.String("none")})
			return err
		}, is[types.DBParameterGroupNotFoundFault], `c.describe_db_parameters(DBParameterGroupName="none")`},
		{"DBParameterGroupAlreadyExistsFault", func(ctx context.Context) error {
			_, err := cl.CreateDBParameterGroup(ctx, pg)
			return err
		}, is[types.DBParameterGroupAlreadyExistsFault], `c.create_db_parameter_group(DBParameterGroupName="taken", DBParameterGroupFamily="mysql8.0", Description="taken")`},
		{"OptionGroupNotFoundFault", func(ctx context.Context) error {
			_, err := cl.DescribeOptionGroups(ctx, &rdssdk.DescribeOptionGroupsInput{OptionGroupName: aws.String("none")})
			return err
		}, is[types.OptionGroupNotFoundFault], `c.describe_option_groups(OptionGroupName="none")`},
		{"InvalidDBInstanceStateFault", func(ctx context.Context) error {
			_, err := cl.StartDBInstance(ctx, &rdssdk.StartDBInstanceInput{DBInstanceIdentifier: aws.String("taken")})
			return err
		}, is[types.InvalidDBInstanceStateFault], `c.start_db_instance(DBInstanceIdentifier="taken")`},
		{"DBSnapshotNotFoundFault", func(ctx context.Context) error {
			_, err := cl.DescribeDBSnapshots(ctx, &rdssdk.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String("none")})
			return err
		}, is[types.DBSnapshotNotFoundFault], `c.describe_db_snapshots(DBSnapshotIdentifier="none")`},
	})
}
