package elasticache

import (
	"time"

	"github.com/cloudbox/cloudbox/api"
)

// In-transit encryption and AUTH: a group created with
// TransitEncryptionEnabled serves TLS only on its port (mode required),
// with a certificate for *.<id>.<hash>.<region code>.cache.amazonaws.com
// from cloudbox's CA, which the instances trust; the nodes replicate over
// TLS. An AuthToken (allowed only with TLS, as on AWS) is redis-server's
// requirepass and masterauth: a client without it gets NOAUTH.

// nodeTLS is a group's certificate and key (PEM), and the CA's.
type nodeTLS struct {
	Cert, Key, CA string
}

// certValidity is how long a group's certificate lasts.
const certValidity = 5 * 365 * 24 * time.Hour

// checkTransit checks the in-transit encryption and AUTH token asked for
// and says whether TLS is on.
func checkTransit(enabled *bool, mode, token *string) (bool, error) {
	on := enabled != nil && *enabled
	if token != nil {
		if !on {
			return false, invalidValue("The AUTH token is only supported when encryption-in-transit is enabled")
		}
		if !validAuthToken(*token) {
			return false, invalidValue("Invalid AuthToken provided.")
		}
	}
	if mode != nil {
		if !on {
			return false, invalidCombination("TransitEncryptionMode requires TransitEncryptionEnabled.")
		}
		if *mode != "required" {
			return false, api.NotImplemented("ElastiCache", "TransitEncryptionMode "+*mode+" (a node serves TLS only, not TLS and plain text on one port)")
		}
	}
	return on, nil
}

// validAuthToken follows AWS's rules: 16 to 128 printable ASCII
// characters, none of / " @.
func validAuthToken(t string) bool {
	if len(t) < 16 || len(t) > 128 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c < 0x21 || c > 0x7e || c == '/' || c == '"' || c == '@' {
			return false
		}
	}
	return true
}

// issue makes a group's certificate.
func (s *Service) issue(sc scope, id string) (*nodeTLS, error) {
	if s.ca == nil {
		return nil, api.NotImplemented("ElastiCache", "in-transit encryption without cloudbox's certificate authority")
	}
	cert, key, chain, err := s.ca.Issue([]string{"*." + sc.domain(id)}, certValidity)
	if err != nil {
		return nil, err
	}
	return &nodeTLS{Cert: string(cert), Key: string(key), CA: string(chain)}, nil
}
