// Command histogram-golden writes histogram_golden.json: histogram and
// float-histogram samples appended through Prometheus's own chunkenc
// appenders (the module version pinned in go.mod, the one our prometheus3
// peer is built from), with the chunks they produce. The Rust tests in
// chunkenc/histogram_test.rs replay the samples through our appenders and
// compare the bytes. Regenerate (offline, from the peers' module cache):
//
//	GOMODCACHE=/root/.cache/mimir-native/peers/gopath/pkg/mod GOPROXY=off \
//	GOFLAGS=-mod=mod GOSUMDB=off go run . > ../histogram_golden.json
package main

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand"
	"os"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

type span struct {
	Offset int32  `json:"offset"`
	Length uint32 `json:"length"`
}

// sample is one appended histogram; floats travel as IEEE-754 bit patterns.
type sample struct {
	T       int64    `json:"t"`
	Hint    uint8    `json:"hint"`
	Schema  int32    `json:"schema"`
	ZT      uint64   `json:"zt"`
	ZC      uint64   `json:"zc"`
	Count   uint64   `json:"count"`
	Sum     uint64   `json:"sum"`
	PSpans  []span   `json:"ps"`
	NSpans  []span   `json:"ns"`
	PB      []int64  `json:"pb,omitempty"`
	NB      []int64  `json:"nb,omitempty"`
	FZC     uint64   `json:"fzc,omitempty"`
	FCount  uint64   `json:"fcount,omitempty"`
	FPB     []uint64 `json:"fpb,omitempty"`
	FNB     []uint64 `json:"fnb,omitempty"`
	Custom  []uint64 `json:"cv,omitempty"`
}

type chunk struct {
	Hex string `json:"hex"`
}

type gcase struct {
	Name    string   `json:"name"`
	Float   bool     `json:"float"`
	Samples []sample `json:"samples"`
	Chunks  []string `json:"chunks"`
}

func spans(s []histogram.Span) []span {
	out := []span{}
	for _, x := range s {
		out = append(out, span{x.Offset, x.Length})
	}
	return out
}

func bits(fs []float64) []uint64 {
	var out []uint64
	for _, f := range fs {
		out = append(out, math.Float64bits(f))
	}
	return out
}

func toSample(t int64, h *histogram.Histogram) sample {
	return sample{T: t, Hint: uint8(h.CounterResetHint), Schema: h.Schema, ZT: math.Float64bits(h.ZeroThreshold),
		ZC: h.ZeroCount, Count: h.Count, Sum: math.Float64bits(h.Sum), PSpans: spans(h.PositiveSpans),
		NSpans: spans(h.NegativeSpans), PB: h.PositiveBuckets, NB: h.NegativeBuckets, Custom: bits(h.CustomValues)}
}

func toFloatSample(t int64, h *histogram.FloatHistogram) sample {
	return sample{T: t, Hint: uint8(h.CounterResetHint), Schema: h.Schema, ZT: math.Float64bits(h.ZeroThreshold),
		FZC: math.Float64bits(h.ZeroCount), FCount: math.Float64bits(h.Count), Sum: math.Float64bits(h.Sum),
		PSpans: spans(h.PositiveSpans), NSpans: spans(h.NegativeSpans), FPB: bits(h.PositiveBuckets),
		FNB: bits(h.NegativeBuckets), Custom: bits(h.CustomValues)}
}

// run appends like the head does for the chunk-local part: the previous
// chunk's appender is passed for the first sample of a new chunk only.
func run(name string, ts []int64, hs []*histogram.Histogram) gcase {
	c := gcase{Name: name}
	var chunks []chunkenc.Chunk
	var app chunkenc.Appender
	for i, h := range hs {
		// Record what is appended: Copy drops the zero bucket and negative
		// buckets of custom-bucket histograms.
		h = h.Copy()
		c.Samples = append(c.Samples, toSample(ts[i], h))
		if app == nil {
			ch := chunkenc.NewHistogramChunk()
			app, _ = ch.Appender()
			chunks = append(chunks, ch)
		}
		nc, recoded, a2, err := app.AppendHistogram(nil, 0, ts[i], h.Copy(), false)
		if err != nil {
			panic(err)
		}
		if nc != nil {
			if recoded {
				chunks[len(chunks)-1] = nc
			} else {
				chunks = append(chunks, nc)
			}
		}
		app = a2
	}
	for _, ch := range chunks {
		c.Chunks = append(c.Chunks, hex.EncodeToString(ch.Bytes()))
	}
	return c
}

func runFloat(name string, ts []int64, hs []*histogram.FloatHistogram) gcase {
	c := gcase{Name: name, Float: true}
	var chunks []chunkenc.Chunk
	var app chunkenc.Appender
	for i, h := range hs {
		h = h.Copy()
		c.Samples = append(c.Samples, toFloatSample(ts[i], h))
		if app == nil {
			ch := chunkenc.NewFloatHistogramChunk()
			app, _ = ch.Appender()
			chunks = append(chunks, ch)
		}
		nc, recoded, a2, err := app.AppendFloatHistogram(nil, 0, ts[i], h.Copy(), false)
		if err != nil {
			panic(err)
		}
		if nc != nil {
			if recoded {
				chunks[len(chunks)-1] = nc
			} else {
				chunks = append(chunks, nc)
			}
		}
		app = a2
	}
	for _, ch := range chunks {
		c.Chunks = append(c.Chunks, hex.EncodeToString(ch.Bytes()))
	}
	return c
}

// randomSpans draws a bucket layout.
func randomSpans(r *rand.Rand, maxSpans int) []histogram.Span {
	n := r.Intn(maxSpans + 1)
	var out []histogram.Span
	for i := 0; i < n; i++ {
		off := int32(r.Intn(4))
		if i == 0 {
			off = int32(r.Intn(20) - 10)
		}
		out = append(out, histogram.Span{Offset: off, Length: uint32(1 + r.Intn(4))})
	}
	return out
}

func count(s []histogram.Span) int {
	n := 0
	for _, x := range s {
		n += int(x.Length)
	}
	return n
}

// series makes a counter-like (or gauge) series whose layout sometimes
// grows, sometimes loses empty buckets, and sometimes resets.
func series(r *rand.Rand, n int, gauge bool, custom bool) ([]int64, []*histogram.Histogram) {
	var ts []int64
	var hs []*histogram.Histogram
	t := int64(1_700_000_000_000 + r.Intn(100000))
	schema := int32(r.Intn(13) - 4)
	var cv []float64
	if custom {
		schema = histogram.CustomBucketsSchema
		cv = []float64{0.001, 0.1, 0.5, 1, 2.5, 1e9, 0.0001234}
		cv = cv[:1+r.Intn(len(cv))]
		for i := 1; i < len(cv); i++ {
			if cv[i] <= cv[i-1] {
				cv = cv[:i]
				break
			}
		}
	}
	zt := []float64{0, 0.001, math.Ldexp(0.5, -128), 1e-300}[r.Intn(4)]
	ps := randomSpans(r, 3)
	ns := randomSpans(r, 2)
	if custom {
		ns = nil
		ps = []histogram.Span{{Offset: 0, Length: uint32(len(cv) + 1)}}
		zt = 0
	}
	abs := make([]int64, count(ps))
	nabs := make([]int64, count(ns))
	var zc uint64
	sum := 0.0
	for i := 0; i < n; i++ {
		step := int64(15000)
		if r.Intn(5) == 0 {
			step = int64(r.Intn(1 << 20))
		}
		t += step
		switch k := r.Intn(20); {
		case k == 0 && !custom:
			// Grow the layout: a new span after the last.
			extra := histogram.Span{Offset: int32(r.Intn(3)), Length: uint32(1 + r.Intn(2))}
			ps = append(append([]histogram.Span{}, ps...), extra)
			abs = append(abs, make([]int64, extra.Length)...)
		case k == 1:
			// Counter reset.
			for j := range abs {
				abs[j] = 0
			}
			for j := range nabs {
				nabs[j] = 0
			}
			zc = 0
			sum = 0
		}
		for j := range abs {
			if gauge {
				abs[j] = int64(r.Intn(50))
			} else {
				abs[j] += int64(r.Intn(30))
			}
		}
		for j := range nabs {
			nabs[j] += int64(r.Intn(3))
		}
		zc += uint64(r.Intn(4))
		sum += r.Float64() * 10
		var c uint64 = zc
		pb := make([]int64, len(abs))
		prev := int64(0)
		for j, v := range abs {
			c += uint64(v)
			pb[j] = v - prev
			prev = v
		}
		nb := make([]int64, len(nabs))
		prev = 0
		for j, v := range nabs {
			c += uint64(v)
			nb[j] = v - prev
			prev = v
		}
		h := &histogram.Histogram{Schema: schema, ZeroThreshold: zt, ZeroCount: zc, Count: c, Sum: sum,
			PositiveSpans: ps, NegativeSpans: ns, PositiveBuckets: pb, NegativeBuckets: nb, CustomValues: cv}
		if gauge {
			h.CounterResetHint = histogram.GaugeType
		}
		if r.Intn(40) == 0 {
			h = &histogram.Histogram{Sum: math.Float64frombits(value.StaleNaN)}
		}
		ts = append(ts, t)
		hs = append(hs, h)
	}
	return ts, hs
}

func main() {
	r := rand.New(rand.NewSource(12))
	var cases []gcase

	// Hand-made cases.
	base := func() *histogram.Histogram {
		return &histogram.Histogram{Schema: 0, Count: 5, ZeroCount: 1, Sum: 12.5, ZeroThreshold: 0.001,
			PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}}, PositiveBuckets: []int64{2, 0}}
	}
	{
		var ts []int64
		var hs []*histogram.Histogram
		h := base()
		for i := 0; i < 30; i++ {
			ts = append(ts, int64(1000+i*15000))
			hs = append(hs, h.Copy())
			h.Count += 3
			h.Sum += 1.5
			h.PositiveBuckets[0]++
			h.PositiveBuckets[1]++
		}
		cases = append(cases, run("steady", ts, hs))
	}
	{
		h1 := base()
		h2 := &histogram.Histogram{Schema: 0, Count: 9, ZeroCount: 1, Sum: 20, ZeroThreshold: 0.001,
			PositiveSpans: []histogram.Span{{Offset: -2, Length: 1}, {Offset: 1, Length: 3}}, PositiveBuckets: []int64{1, 2, 0, 0}}
		h3 := &histogram.Histogram{Schema: 0, Count: 3, ZeroCount: 0, Sum: 2, ZeroThreshold: 0.001,
			PositiveSpans: []histogram.Span{{Offset: 0, Length: 1}}, PositiveBuckets: []int64{3}}
		h4 := &histogram.Histogram{Schema: 1, Count: 4, ZeroCount: 0, Sum: 2, ZeroThreshold: 0.001,
			PositiveSpans: []histogram.Span{{Offset: 0, Length: 1}}, PositiveBuckets: []int64{4}}
		cases = append(cases, run("grow-reset-schema", []int64{0, 10, 20, 30}, []*histogram.Histogram{h1, h2, h3, h4}))
		// Backward insert: the new sample lacks an empty bucket.
		b1 := &histogram.Histogram{Schema: 2, Count: 4, Sum: 1, PositiveSpans: []histogram.Span{{Offset: 0, Length: 3}}, PositiveBuckets: []int64{2, -2, 2}}
		b2 := &histogram.Histogram{Schema: 2, Count: 6, Sum: 2, PositiveSpans: []histogram.Span{{Offset: 0, Length: 1}, {Offset: 1, Length: 1}}, PositiveBuckets: []int64{3, 0}}
		b3 := &histogram.Histogram{Schema: 2, Count: 9, Sum: 3, PositiveSpans: []histogram.Span{{Offset: 0, Length: 1}, {Offset: 1, Length: 2}}, PositiveBuckets: []int64{4, 0, -3}}
		cases = append(cases, run("backward-forward", []int64{0, 60000, 120000}, []*histogram.Histogram{b1, b2, b3}))
		hr := base()
		hr.CounterResetHint = histogram.CounterReset
		cases = append(cases, run("hint-reset", []int64{0, 1, 2}, []*histogram.Histogram{base(), base(), hr}))
	}
	for i := 0; i < 16; i++ {
		ts, hs := series(r, 5+r.Intn(60), i%4 == 1, i%5 == 2)
		cases = append(cases, run("random-int", ts, hs))
	}
	for i := 0; i < 16; i++ {
		ts, hs := series(r, 5+r.Intn(60), i%4 == 1, i%5 == 2)
		fhs := make([]*histogram.FloatHistogram, len(hs))
		for j, h := range hs {
			fhs[j] = h.ToFloat(nil)
			if j%7 == 3 && !value.IsStaleNaN(fhs[j].Sum) {
				fhs[j].Mul(1.25)
			}
		}
		cases = append(cases, runFloat("random-float", ts, fhs))
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(map[string]any{"prometheus": "v0.316.0", "cases": cases}); err != nil {
		panic(err)
	}
}
