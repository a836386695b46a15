package train

import (
	"testing"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/rng"
)

func benchStep(b *testing.B, model string) {
	cfg := config.Default()
	cfg.Model = model
	m, err := models.New(model, cfg.LatentDim, rng.New(1, 1))
	if err != nil {
		b.Fatal(err)
	}
	tr, err := NewTrainer(cfg, m, rng.New(2, 1))
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	rng.New(3, 1).FillNormal(tr.Real, 0, 0.5)
	next := func() error { return nil } // the same synthetic batch every step
	for i := 0; i < 2; i++ {            // warm-up
		if err := tr.Step(next); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := tr.Step(next); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*cfg.Train.NCritic*cfg.Train.BatchSize)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkStepDCGAN is one DCGAN training iteration (D step + G step) at batch 64.
func BenchmarkStepDCGAN(b *testing.B) { benchStep(b, "dcgan") }
