package nbserv_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	nbserv "github.com/nbserv/go-nbserv"
)

// The end-to-end tests of config sections: harness and rules in
// e2e_test.go, facts asserted in docs/wire/server.md.

func TestE2EConfigSections(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		// A section of its own: sections persist on the server's disk.
		section := fmt.Sprintf("e2e_%d", time.Now().UnixNano())
		written := map[string]bool{}
		t.Cleanup(func() {
			patch := map[string]any{}
			for k := range written {
				patch[k] = nil
			}
			if got, err := c.ConfigSections.Update(context.Background(), section, patch); err != nil || len(got) != 0 {
				t.Errorf("cleanup: %v, %v", got, err)
			}
		})
		update := func(patch map[string]any) map[string]any {
			t.Helper()
			for k := range patch {
				written[k] = true
			}
			got, err := c.ConfigSections.Update(ctx, section, patch)
			if err != nil {
				t.Fatalf("Update %v: %v", patch, err)
			}
			return got
		}

		if got, err := c.ConfigSections.Get(ctx, section); err != nil || got == nil || len(got) != 0 {
			t.Errorf("Get a new section: %v, %v", got, err)
		}
		got := update(map[string]any{"a": 1, "nested": map[string]any{"x": 1, "y": map[string]any{"z": true}}, "list": []int{1, 2}})
		want := map[string]any{"a": 1.0, "nested": map[string]any{"x": 1.0, "y": map[string]any{"z": true}}, "list": []any{1.0, 2.0}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("first Update (-want +got):\n%s", diff)
		}
		// Objects merge, nulls delete, lists and scalars replace.
		got = update(map[string]any{"b": "two", "nested": map[string]any{"x": nil, "w": 2}, "list": []int{3}})
		want = map[string]any{"a": 1.0, "b": "two", "nested": map[string]any{"y": map[string]any{"z": true}, "w": 2.0}, "list": []any{3.0}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("merging Update (-want +got):\n%s", diff)
		}
		if read, err := c.ConfigSections.Get(ctx, section); err != nil || !cmp.Equal(want, read) {
			t.Errorf("Get: %v, %v; want %v", read, err, want)
		}
		var typed struct {
			A      int               `json:"a"`
			Nested map[string]any    `json:"nested"`
			List   []int             `json:"list"`
			Other  map[string]string `json:"other"`
		}
		if err := c.ConfigSections.GetInto(ctx, section, &typed); err != nil || typed.A != 1 || !slices.Equal(typed.List, []int{3}) {
			t.Errorf("GetInto: %+v, %v", typed, err)
		}
		// An object emptied by the merge disappears, and so does an empty one.
		got = update(map[string]any{"nested": map[string]any{"w": nil, "y": nil}, "e": map[string]any{}, "absent": nil})
		want = map[string]any{"a": 1.0, "b": "two", "list": []any{3.0}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("emptying Update (-want +got):\n%s", diff)
		}
		// An empty patch changes nothing.
		if got, err := c.ConfigSections.Update(ctx, section, nil); err != nil || !cmp.Equal(want, got) {
			t.Errorf("nil patch: %v, %v", got, err)
		}
		// An object over a scalar crashes Jupyter.
		var e *nbserv.Error
		_, err := c.ConfigSections.Update(ctx, section, map[string]any{"a": map[string]any{"k": 1}})
		if !errors.Is(err, nbserv.ErrServer) || !errors.As(err, &e) || e.StatusCode != 500 || e.Message != "Unhandled error" {
			t.Errorf("object over a scalar: %v", err)
		}
		if _, err := c.ConfigSections.Get(ctx, "a-b"); !errors.Is(err, nbserv.ErrInvalidArgument) {
			t.Errorf("Get a-b: %v", err)
		}
		if _, err := newClient(t, tg.url, "").ConfigSections.Get(ctx, section); !errors.Is(err, nbserv.ErrUnauthorized) {
			t.Errorf("Get without a token: %v", err)
		}
	})
}
