// Package benchpair times an SDK call against its hand-written floor, for
// the benchmarks of every package that has one (nbserv's REST calls, the
// kernel channels' execute round trip).
package benchpair

import (
	"testing"
	"time"
)

// Run times sdk and raw alternately, one call of each per iteration in
// alternating order, so that the machine's drifting load hits both alike;
// it reports each one's ns/op and their ratio, the steadier comparison on
// a noisy machine than two separate benchmarks.
func Run(b *testing.B, sdk, raw func()) {
	var tSDK, tRaw time.Duration
	i := 0
	for b.Loop() {
		i++
		first, second, t1, t2 := sdk, raw, &tSDK, &tRaw
		if i%2 == 0 {
			first, second, t1, t2 = raw, sdk, &tRaw, &tSDK
		}
		start := time.Now()
		first()
		mid := time.Now()
		second()
		*t1 += mid.Sub(start)
		*t2 += time.Since(mid)
	}
	b.ReportMetric(float64(tSDK.Nanoseconds())/float64(i), "sdk-ns/op")
	b.ReportMetric(float64(tRaw.Nanoseconds())/float64(i), "raw-ns/op")
	b.ReportMetric(float64(tSDK)/float64(tRaw), "sdk/raw")
}
