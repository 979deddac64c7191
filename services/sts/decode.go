package sts

import (
	"context"

	"github.com/cloudbox/cloudbox/api"
	stsapi "github.com/cloudbox/cloudbox/api/sts"
)

// DecodeAuthorizationMessage reads the encoded message of one of this
// daemon's denials (EC2's UnauthorizedOperation).
func (s *Service) DecodeAuthorizationMessage(_ context.Context, in *stsapi.DecodeAuthorizationMessageRequest) (*stsapi.DecodeAuthorizationMessageResponse, error) {
	if s.decode != nil {
		if msg, ok := s.decode(*in.EncodedMessage); ok {
			return &stsapi.DecodeAuthorizationMessageResponse{DecodedMessage: &msg}, nil
		}
	}
	return nil, api.Errorf("InvalidAuthorizationMessageException", "The message is not valid")
}
