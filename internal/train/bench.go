package train

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/parallel"
	"github.com/gantrain/gantrain/internal/rng"
)

// BenchResult is what `gantrain bench` prints, as one JSON object.
type BenchResult struct {
	Model   string `json:"model"`
	BLAS    string `json:"blas"`
	Threads int    `json:"threads"`
	// Precision is train.precision: fp32 or bf16.
	Precision string `json:"precision"`
	Batch     int    `json:"batch"`
	NCritic   int    `json:"n_critic"`
	Data      string `json:"data"`
	Iters     int    `json:"iters"`
	// ImgsPerSec counts real images: batch × n_critic per iteration.
	ImgsPerSec float64 `json:"imgs_per_s"`
	MsPerIter  float64 `json:"ms_per_iter"`
	MsD        float64 `json:"ms_d_step"` // all D (critic) steps of an iteration
	MsG        float64 `json:"ms_g_step"`
	// MFLOPPerImg is the matrix-multiplication work per real image, counted
	// in the products themselves (2·m·n·k each); GFLOPs the rate achieved.
	MFLOPPerImg float64 `json:"mflop_per_img"`
	GFLOPs      float64 `json:"gflop_per_s"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
	// AllocMBPerIter is what the Go heap allocated per iteration (garbage
	// for the collector; the big buffers are allocated once, before).
	AllocMBPerIter float64 `json:"alloc_mb_per_iter"`
	// GEMMMsPerIter is the wall time of all matrix products per iteration;
	// GEMM splits it by shape, the most time first.
	GEMMMsPerIter float64     `json:"gemm_ms_per_iter"`
	GEMM          []GEMMShape `json:"gemm"`
}

// GEMMShape is the matrix products of one shape in a training iteration.
type GEMMShape struct {
	Shape        string  `json:"shape"` // "NT 128×1024×3136": op(A)·op(B), M×N×K
	CallsPerIter float64 `json:"calls_per_iter"`
	MsPerIter    float64 `json:"ms_per_iter"`
	GFLOPs       float64 `json:"gflop_per_s"`
}

// Bench times iters training iterations after warmup ones, on real
// batches from ds or, when ds is nil, on synthetic ones.
//
// With profile non-nil, a CPU profile of the timed iterations (runtime/pprof)
// is written to it.
func Bench(cfg config.Config, ds *data.Dataset, iters, warmup int, profile io.Writer) (*BenchResult, error) {
	parallel.SetThreads(cfg.Train.Threads)
	classes := 0
	if ds != nil {
		cfg.Data.Size, cfg.Data.Channels, classes = ds.H, ds.C, ds.NumClasses()
	}
	model, err := models.ForConfig(cfg, classes, rng.New(cfg.Seed, gen.WeightsStream))
	if err != nil {
		return nil, err
	}
	t, err := NewTrainer(cfg, model, rng.New(cfg.Seed, gen.TrainStream))
	if err != nil {
		return nil, err
	}
	defer t.Close()
	b := cfg.Train.BatchSize
	imgs := make([]float32, len(t.Real))
	labels := make([]int, b)
	source := "synthetic"
	var next func() error
	if ds != nil {
		source = ds.Source
		batcher, err := data.NewBatcher(ds, b, cfg.Seed, cfg.Data.Flip)
		if err != nil {
			return nil, err
		}
		next = func() error {
			if _, err := batcher.Next(imgs, labels); err != nil {
				return err
			}
			t.SetBatch(imgs, labels)
			if model.Classifier {
				t.SetLabeledBatch(imgs, labels) // sgan: the same images, labelled
			}
			return nil
		}
	} else {
		r := rng.New(cfg.Seed, 99)
		for i := range imgs {
			imgs[i] = float32(2*r.Float64() - 1)
		}
		for i := range labels {
			labels[i] = i % max(model.Classes, 1)
		}
		next = func() error {
			t.SetBatch(imgs, labels)
			if model.Classifier {
				t.SetLabeledBatch(imgs, labels)
			}
			return nil
		}
	}
	for i := 0; i < warmup; i++ {
		if err := t.Step(next); err != nil {
			return nil, err
		}
	}
	t.TimeD, t.TimeG = 0, 0
	f0 := blas.Flops()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	if profile != nil {
		if err := pprof.StartCPUProfile(profile); err != nil {
			return nil, err
		}
	}
	blas.Record(true)
	start := time.Now()
	err = nil
	for i := 0; i < iters && err == nil; i++ {
		err = t.Step(next)
	}
	el := time.Since(start)
	blas.Record(false)
	if profile != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return nil, err
	}
	var gemm []GEMMShape
	var gemmTime time.Duration
	for _, st := range blas.Recorded() {
		gemmTime += st.Time
		gemm = append(gemm, GEMMShape{
			Shape:        st.String(),
			CallsPerIter: round(float64(st.Calls)/float64(iters), 2),
			MsPerIter:    round(st.Time.Seconds()*1000/float64(iters), 3),
			GFLOPs:       round(st.Flop()*float64(st.Calls)/st.Time.Seconds()/1e9, 1),
		})
	}
	runtime.ReadMemStats(&ms1)
	flops := float64(blas.Flops() - f0)
	nimg := float64(iters * b * cfg.Train.NCritic)
	return &BenchResult{
		Model: cfg.Model, BLAS: blas.Name(), Threads: parallel.Threads(), Precision: cfg.Train.Precision, Batch: b, NCritic: cfg.Train.NCritic,
		Data: source, Iters: iters,
		ImgsPerSec:     round(nimg/el.Seconds(), 1),
		MsPerIter:      round(el.Seconds()*1000/float64(iters), 2),
		MsD:            round(t.TimeD.Seconds()*1000/float64(iters), 2),
		MsG:            round(t.TimeG.Seconds()*1000/float64(iters), 2),
		MFLOPPerImg:    round(flops/nimg/1e6, 1),
		GFLOPs:         round(flops/el.Seconds()/1e9, 1),
		PeakRSSMB:      round(PeakRSS()/(1<<20), 1),
		AllocMBPerIter: round(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(iters)/(1<<20), 3),
		GEMMMsPerIter:  round(gemmTime.Seconds()*1000/float64(iters), 2),
		GEMM:           gemm,
	}, nil
}

// PeakRSS returns the process's peak resident set size in bytes (Linux
// VmHWM), or 0 where it is unknown.
func PeakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// String formats the result for humans.
func (r *BenchResult) String() string {
	return fmt.Sprintf("%s, batch %d, %d threads, %s: %.0f real images/s, %.1f ms per iteration (D %.1f, G %.1f; matrix products %.1f), %.1f GFLOP/s, peak RSS %.0f MB",
		r.Model, r.Batch, r.Threads, r.Precision, r.ImgsPerSec, r.MsPerIter, r.MsD, r.MsG, r.GEMMMsPerIter, r.GFLOPs, r.PeakRSSMB)
}
