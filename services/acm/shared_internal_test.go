package acm

import (
	"slices"
	"testing"
)

func TestShownUsers(t *testing.T) {
	lb := "arn:aws:elasticloadbalancing:ap-northeast-2:000000000000:loadbalancer/app/web/50dc6c495c0c9188"
	got := shownUsers([]string{
		"arn:aws:elasticloadbalancing:ap-northeast-2:000000000000:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2",
		"arn:aws:elasticloadbalancing:ap-northeast-2:000000000000:listener/app/web/50dc6c495c0c9188/0467ef3c8400ae65",
		"arn:aws:cloudfront::000000000000:distribution/E1",
	})
	if want := []string{lb, "arn:aws:cloudfront::000000000000:distribution/E1"}; !slices.Equal(got, want) {
		t.Errorf("shownUsers = %q, want %q", got, want)
	}
}
