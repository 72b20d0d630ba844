package nbserv

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// allocatedBy returns the bytes allocated while f ran: an upper bound on
// the memory f held at its peak.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// retainedBy returns the live heap that f's result keeps, measured after a
// collection while the result is still referenced.
func retainedBy(f func() any) (int64, any) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc), v
}

// repeatJSON returns a JSON array of copies of elem, about size bytes.
func repeatJSON(elem string, size int) string {
	n := size / (len(elem) + 1)
	return "[" + strings.Repeat(elem+",", n-1) + elem + "]"
}

// A call's memory is bounded by MaxResponseBytes, whatever the
// body and whichever decoding path it takes. The bound, stated in the
// README: the body (at most MaxResponseBytes, in a buffer that grows to at
// most twice that) plus decoded values of at most DecodeFactor ×
// MaxResponseBytes, so a call allocates at most (2 + DecodeFactor) ×
// MaxResponseBytes, plus a constant. Measured here with a 4 MiB cap, as
// total bytes allocated during the call (above the peak it held).
func TestMemoryBoundedByMaxResponseBytes(t *testing.T) {
	const limit = 4 << 20
	const bound = (2+transport.DecodeFactor)*limit + 2<<20
	session := `{"id":"a-b-c-d-e","path":"p","name":"n","type":"notebook","kernel":{"id":"k-b-c-d-e","name":"python3","last_activity":"2026-11-27T00:08:47.026443Z","execution_state":"idle","connections":0}}`
	odd := `{"id":"a-b-c-d-e","name":1,"kernel":{"id":"k","connections":"x"}}`
	bodies := map[string]string{
		"[{},…]: objects":                    repeatJSON(`{}`, limit-16),
		`[{"id":1},…]: the lenient path`:     repeatJSON(`{"id":1}`, limit-16),
		"[odd sessions,…]: the lenient path": repeatJSON(odd, limit-16),
		`[{"kernel":{}},…]: nested objects`:  repeatJSON(`{"kernel":{}}`, limit-16),
		"[0,0,…]: scalars":                   repeatJSON(`0`, limit-16),
		"[[],[],…]: arrays":                  repeatJSON(`[]`, limit-16),
		"real sessions":                      repeatJSON(session, limit-16),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			c, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) },
				func(cfg *Config) { cfg.MaxResponseBytes = limit })
			var err error
			allocated := allocatedBy(func() { _, err = c.Sessions.List(context.Background()) })
			retained, _ := retainedBy(func() any { l, _ := c.Sessions.List(context.Background()); return l })
			t.Logf("%d-byte body: allocated %.1f MiB (%.1f× the cap), retained %.1f MiB; err: %v",
				len(body), float64(allocated)/(1<<20), float64(allocated)/limit, float64(retained)/(1<<20), err)
			if allocated > bound {
				t.Errorf("allocated %d MiB, over the stated %d MiB", allocated>>20, bound>>20)
			}
			if name == "real sessions" && err != nil {
				t.Errorf("a real list near the cap must decode: %v", err)
			}
			if err != nil && !errors.Is(err, ErrResponseTooLarge) && !strings.Contains(err.Error(), "id") && !strings.Contains(err.Error(), "cannot unmarshal") {
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
}

// The cost estimate never undercounts what the models take: for bodies it
// lets through, the decoded list holds no more than the estimate.
func TestDecodeCostIsAnUpperBound(t *testing.T) {
	c, err := NewClient(Config{BaseURL: "http://h"})
	if err != nil {
		t.Fatal(err)
	}
	odd := `{"id":"a-b-c-d-e","name":1}`
	for _, elem := range []string{`{"id":"i"}`, `{"id":"i","kernel":{"id":"k"}}`, odd, `{"id":"i","notebook":{}}`, `{"id":"i","kernel":{"id":"k"},"notebook":{"path":"p"}}`} {
		body := repeatJSON(elem, 1<<20)
		retained, v := retainedBy(func() any {
			l, err := decodeSessions([]byte(body), 1<<40)
			if err != nil {
				t.Fatal(err)
			}
			return l
		})
		runtime.KeepAlive(v)
		est := c.t.JSONCost([]byte(body))
		if elem == odd {
			est += costMalformed * int64(strings.Count(body, `"name":1`))
		}
		if retained > est {
			t.Errorf("%s: decoded list holds %d bytes, estimate %d", elem, retained, est)
		}
	}
}
