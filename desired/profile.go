package desired

// InstanceProfile is an IAM instance profile as EC2 and IMDS need it.
type InstanceProfile struct {
	ARN, ID string
	// Role is the name of the profile's role, RoleARN its ARN and RoleID
	// its unique id (AROA...); all "" when the profile holds no role.
	Role, RoleARN, RoleID string
}

// Profiles finds IAM instance profiles (services/iam implements it): EC2
// checks the profile RunInstances names, IMDS serves its role's
// credentials, and those credentials stay valid while the instance keeps
// the profile and the profile its role.
type Profiles interface {
	// InstanceProfile returns account's profile named name (the last
	// element of its ARN); ok is false when IAM has no such profile.
	InstanceProfile(account, name string) (p InstanceProfile, ok bool, err error)
}
