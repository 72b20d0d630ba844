package nbserv_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
)

// The end-to-end tests of identity: harness and rules in
// e2e_test.go, facts asserted in docs/wire/server.md.

func TestE2EIdentity(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		v, err := c.Server.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		me, err := c.Identity.Me(ctx, map[string][]string{"contents": {"read", "write"}, "kernels": {"execute"}})
		if v.AtLeast(2, 0) {
			if err != nil || me.Identity.Username == "" || me.Identity.DisplayName == "" ||
				!me.Permissions.Allows("contents", "write") || !me.Permissions.Allows("kernels", "execute") {
				t.Errorf("Me on %s: %+v, %v", v, me, err)
			}
		} else {
			var ns *nbserv.NotSupportedError
			if !errors.Is(err, nbserv.ErrNotSupported) || !errors.Is(err, nbserv.ErrNotFound) || !errors.As(err, &ns) ||
				ns.ServerVersion != v.Raw || ns.Feature != "GET /api/me" || strings.Contains(err.Error(), tg.token) {
				t.Errorf("Me on %s: %+v, %v", v, me, err)
			}
		}
		// A wrong prefix is not found, not "not supported".
		u, _ := url.Parse(tg.url)
		u.Path = "/no/such/prefix/"
		_, err = newClient(t, u.String(), tg.token).Identity.Me(ctx, nil)
		if !errors.Is(err, nbserv.ErrNotFound) || errors.Is(err, nbserv.ErrNotSupported) {
			t.Errorf("Me under a wrong prefix: %v", err)
		}
	})
}
