package nbserv

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"sync/atomic"
	"testing"
)

func TestValidIDMatchesJupytersRoute(t *testing.T) {
	route := regexp.MustCompile(`^\w+-\w+-\w+-\w+-\w+$`) // Jupyter's, anchored as Tornado does
	for _, id := range []string{
		testSessionID, "a-b-c-d-e", "A_1-b-c-d-e", "", "-", "a-b-c-d", "a-b-c-d-e-f", "a--b-c-d", "-a-b-c-d", "a-b-c-d-",
		"a-b-c-d-é", "a-b-c-d-e ", "a/b-c-d-e", "a-b-c-d-%41", "..", "a-b-c-d-e\n",
	} {
		if got, want := validID(id), route.MatchString(id); got != want {
			t.Errorf("validID(%q) = %v, Jupyter's route says %v", id, got, want)
		}
	}
}

func TestPathSafety(t *testing.T) {
	var hits atomic.Int32
	c, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	ctx := context.Background()
	for _, id := range []string{
		"../kernels", "..", "a/b-c-d-e-f", "a-b-c-d-e/../../kernels", "a-b-c-d-e?x=1", "a-b-c-d-e#x",
		"a-b-c-d-%65", "a-b-c-d-e ", " a-b-c-d-e", "a-b-c-d-e\n", "a-b-c-d", "a-b-c-d-e-f", "é-b-c-d-e",
	} {
		_, err := c.Sessions.Get(ctx, id)
		err2 := c.Sessions.Delete(ctx, id)
		_, err3 := c.Sessions.Rename(ctx, id, "x", "")
		_, err4 := c.Kernels.Get(ctx, id)
		for _, e := range []error{err, err2, err3, err4} {
			var ve *ValidationError
			if !errors.As(e, &ve) || ve.Field != "id" {
				t.Errorf("id %q: err = %v, want an id *ValidationError", id, e)
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

func FuzzValidID(f *testing.F) {
	route := regexp.MustCompile(`^\w+-\w+-\w+-\w+-\w+$`)
	f.Add(testSessionID)
	f.Add("a-b--c-d")
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := validID(id), route.MatchString(id); got != want {
			t.Fatalf("validID(%q) = %v, Jupyter's route says %v", id, got, want)
		}
	})
}
