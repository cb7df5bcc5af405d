// Command histogram-records writes histogram_records.json: WAL records
// (types 7, 8, 9, 10) that Prometheus's own tsdb/record encoder (the
// module version in go.mod) writes for a few histogram samples, for
// wal/histogram_record.rs's tests. Regenerate offline:
//
//	GOMODCACHE=/root/.cache/mimir-native/peers/gopath/pkg/mod GOPROXY=off \
//	GOFLAGS=-mod=mod GOSUMDB=off go run . > ../histogram_records.json
package main

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"os"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/record"
)

func main() {
	var enc record.Encoder
	exp := &histogram.Histogram{CounterResetHint: histogram.NotCounterReset, Schema: 3, ZeroThreshold: 0.001, ZeroCount: 2, Count: 9, Sum: 12.25,
		PositiveSpans: []histogram.Span{{Offset: -2, Length: 2}, {Offset: 1, Length: 1}}, PositiveBuckets: []int64{1, 2, -1},
		NegativeSpans: []histogram.Span{{Offset: 0, Length: 1}}, NegativeBuckets: []int64{2}}
	custom := &histogram.Histogram{CounterResetHint: histogram.UnknownCounterReset, Schema: histogram.CustomBucketsSchema, Count: 4, Sum: 1.5,
		PositiveSpans: []histogram.Span{{Offset: 0, Length: 3}}, PositiveBuckets: []int64{1, 1, -1}, CustomValues: []float64{0.1, 0.5, 2.5}}
	gauge := exp.Copy()
	gauge.CounterResetHint = histogram.GaugeType
	stale := &histogram.Histogram{Sum: math.Float64frombits(value.StaleNaN)}
	ints := []record.RefHistogramSample{
		{Ref: chunks.HeadSeriesRef(12), T: 1_700_000_000_000, H: exp},
		{Ref: chunks.HeadSeriesRef(9), T: 1_700_000_015_000, H: custom},
		{Ref: chunks.HeadSeriesRef(40), T: 1_699_999_990_000, H: gauge},
		{Ref: chunks.HeadSeriesRef(12), T: 1_700_000_030_000, H: stale},
	}
	r7, customs := enc.HistogramSamples(ints, nil)
	r9 := enc.CustomBucketsHistogramSamples(customs, nil)

	fl := []record.RefFloatHistogramSample{
		{Ref: chunks.HeadSeriesRef(3), T: 1_700_000_000_500, FH: exp.ToFloat(nil)},
		{Ref: chunks.HeadSeriesRef(5), T: 1_700_000_001_000, FH: custom.ToFloat(nil)},
	}
	fl[0].FH.Count = 9.5
	r8, fcustoms := enc.FloatHistogramSamples(fl, nil)
	r10 := enc.CustomBucketsFloatHistogramSamples(fcustoms, nil)
	// All custom: no type 7 record at all.
	r7empty, _ := enc.HistogramSamples(ints[1:2], nil)

	out := map[string]string{
		"prometheus": "v0.316.0",
		"r7":         hex.EncodeToString(r7),
		"r9":         hex.EncodeToString(r9),
		"r8":         hex.EncodeToString(r8),
		"r10":        hex.EncodeToString(r10),
		"r7_all_custom": hex.EncodeToString(r7empty),
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
