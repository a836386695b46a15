package train

import (
	"math"
	"testing"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/rng"
)

// The moving average of G over three steps against the same recurrence in
// float64, θ_ema ← β·θ_ema + (1−β)·θ from θ_ema = θ₀; batch-norm
// statistics copied from G; G itself trains as without it.
func TestEMAFollowsG(t *testing.T) {
	const beta = 0.75
	cfg := config.Default()
	cfg.Train.BatchSize, cfg.Width = 4, 8
	build := func(ema float64) (*Trainer, *models.GAN) {
		c := cfg
		c.Train.EMA = ema
		model, err := models.Build("dcgan", models.Shape{Latent: 100, C: 1, H: 28, W: 28, Width: 8}, rng.New(3, 1))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(c, model, rng.New(4, 1))
		if err != nil {
			t.Fatal(err)
		}
		return tr, model
	}
	tr, model := build(beta)
	defer tr.Close()
	plain, plainModel := build(0)
	defer plain.Close()
	if plain.EMA != nil {
		t.Fatal("train.ema 0 made a moving average")
	}
	want := map[string][]float64{}
	for _, p := range model.G.Params() {
		for _, v := range p.Data() {
			want[p.Name] = append(want[p.Name], float64(v))
		}
	}
	next, plainNext := syntheticBatches(tr, 4), syntheticBatches(plain, 4)
	for s := 0; s < 3; s++ {
		if err := tr.Step(next); err != nil {
			t.Fatal(err)
		}
		if err := plain.Step(plainNext); err != nil {
			t.Fatal(err)
		}
		for _, p := range model.G.Params() {
			w := want[p.Name]
			for j, v := range p.Data() {
				w[j] = beta*w[j] + (1-beta)*float64(v)
			}
		}
	}
	ps, pp := tr.EMA.Params(), plainModel.G.Params()
	moved := 0
	for i, p := range model.G.Params() {
		if ps[i].Name != p.Name {
			t.Fatalf("EMA param %d is %s, G's %s", i, ps[i].Name, p.Name)
		}
		for j, v := range ps[i].Data() {
			if math.Abs(float64(v)-want[p.Name][j]) > 1e-6*(1+math.Abs(want[p.Name][j])) {
				t.Fatalf("%s[%d]: EMA %v, want %v", p.Name, j, v, want[p.Name][j])
			}
			if v != p.Data()[j] {
				moved++
			}
			if math.Float32bits(p.Data()[j]) != math.Float32bits(pp[i].Data()[j]) {
				t.Fatalf("%s[%d]: G trains differently with the moving average on", p.Name, j)
			}
		}
	}
	if moved == 0 {
		t.Fatal("the moving average equals G: the test proves nothing")
	}
	gb := model.G.Buffers()
	for i, b := range tr.EMA.Buffers() {
		for j, v := range b.Data {
			if v != gb[i].Data[j] {
				t.Fatalf("%s[%d]: EMA %v, G %v (not copied)", b.Name, j, v, gb[i].Data[j])
			}
		}
	}
}
