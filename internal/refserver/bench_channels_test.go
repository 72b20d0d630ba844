package refserver

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkRefKernelExecute is one execute round trip on the reference
// kernel over a real loopback WebSocket, with this package's minimal
// client: execute_request out, then everything up to the reply and the
// idle status back. It measures the server side; the SDK's own benchmark
// (BenchmarkExecute, package kernel) compares the SDK with a floor.
func BenchmarkRefKernelExecute(b *testing.B) {
	for _, v1 := range []bool{false, true} {
		b.Run(fmt.Sprint("v1=", v1), func(b *testing.B) {
			ref := New(Options{Token: tok, Generation: 1})
			ts := httptest.NewServer(ref)
			defer ts.Close()
			defer ref.Close()
			ref.mu.Lock()
			k := ref.startKernel("python3")
			ref.mu.Unlock()
			c, _, err := dialChannels(b, ts.URL+"/", tok, k.id, "bench", v1)
			if err != nil {
				b.Fatal(err)
			}
			defer c.close()
			c.quiet(50 * time.Millisecond)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := c.execute("1+1")
				fin := finished(id, "execute_reply")
				for {
					m, err := c.recv(10 * time.Second)
					if err != nil {
						b.Fatal(err)
					}
					if fin(m) {
						break
					}
				}
			}
		})
	}
}
