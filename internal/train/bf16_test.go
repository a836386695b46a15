package train

import (
	"math"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/parallel"
	"github.com/gantrain/gantrain/internal/rng"
)

// train.precision: bf16 is refused where it cannot run, with the reason.
// Where it runs, three DCGAN steps in bf16 give the same bits on one and
// two threads, losses within 2% of float32's, and weights that are not
// float32's (the bf16 kernel was used).
func TestBF16Precision(t *testing.T) {
	cfg := config.Default()
	cfg.Train.BatchSize = 32
	if err := blas.CheckBF16(); err != nil {
		cfg.Train.Precision = "bf16"
		model, _ := models.New("dcgan", cfg.LatentDim, rng.New(3, 1))
		_, err := NewTrainer(cfg, model, rng.New(4, 1))
		if err == nil || !strings.Contains(err.Error(), "train.precision: bf16") {
			t.Fatalf("NewTrainer with bf16 where %v: error %v", blas.CheckBF16(), err)
		}
		return
	}
	defer parallel.SetThreads(parallel.Threads())
	run := func(precision string, threads int) ([]Losses, *models.GAN) {
		parallel.SetThreads(threads)
		cfg.Train.Precision = precision
		model, err := models.New("dcgan", cfg.LatentDim, rng.New(3, 1))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(cfg, model, rng.New(4, 1))
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		next := syntheticBatches(tr, cfg.Train.BatchSize)
		var out []Losses
		for range 3 {
			if err := tr.Step(next); err != nil {
				t.Fatal(err)
			}
			out = append(out, tr.Last())
		}
		return out, model
	}
	l32, m32 := run("fp32", 2)
	l1, m1 := run("bf16", 1)
	_, m2 := run("bf16", 2)
	for i, p := range m1.Params() {
		for j, v := range p.Data() {
			if w := m2.Params()[i].Data()[j]; math.Float32bits(v) != math.Float32bits(w) {
				t.Fatalf("bf16 %s[%d]: %v on 1 thread, %v on 2", p.Name, j, v, w)
			}
		}
	}
	for i := range l1 {
		a, b := l1[i], l32[i]
		for _, pair := range [][2]float64{{a.LossD, b.LossD}, {a.LossG, b.LossG}, {a.DReal, b.DReal}, {a.DFake, b.DFake}} {
			if math.Abs(pair[0]-pair[1]) > 0.02*math.Abs(pair[1]) {
				t.Fatalf("step %d: bf16 %+v, fp32 %+v", i+1, a, b)
			}
		}
	}
	differ, worst := 0, 0.0
	for i, p := range m1.Params() {
		for j, v := range p.Data() {
			w := m32.Params()[i].Data()[j]
			if v != w {
				differ++
			}
			worst = max(worst, math.Abs(float64(v-w)))
		}
	}
	t.Logf("after 3 steps: %d weights differ from fp32's, by at most %.3g", differ, worst)
	if differ == 0 {
		t.Fatal("bf16 weights are float32's bit for bit: the bf16 kernel was not used")
	}
}
