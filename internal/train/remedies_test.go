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

// DiffAugment sits before D in the three places it belongs: with the
// parameters NewDiffAugment starts from (no change) the losses are those
// of a trainer without it; drawing the real images' parameters changes
// D's loss on real images only, the fake ones' D's loss on fake images
// only, the G step's G's loss only.
func TestAugmentIsApplied(t *testing.T) {
	build := func(augment []string) *Trainer {
		cfg := config.Default()
		cfg.Train.BatchSize, cfg.Width, cfg.Train.Augment = 4, 8, augment
		model, err := models.Build("dcgan", models.Shape{Latent: 100, C: 1, H: 28, W: 28, Width: 8}, rng.New(3, 1))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(cfg, model, rng.New(4, 1))
		if err != nil {
			t.Fatal(err)
		}
		r := rng.New(5, 1)
		r.FillNormal(tr.Real, 0, 0.5)
		r.FillNormal(tr.z, 0, 1)
		return tr
	}
	tr, plain := build([]string{"color", "translation", "cutout"}), build(nil)
	defer tr.Close()
	defer plain.Close()
	if plain.augReal != nil || plain.augFake != nil || plain.augG != nil {
		t.Fatal("no train.augment, yet augmentations were built")
	}
	losses := func(tr *Trainer) [3]float64 {
		if err := tr.dm.Run(); err != nil { // no optimiser step: the weights stay
			t.Fatal(err)
		}
		if err := tr.gm.Run(); err != nil {
			t.Fatal(err)
		}
		return [3]float64{tr.dReal.Loss, tr.dFake.Loss, tr.gFake.Loss}
	}
	want := losses(plain)
	names := [3]string{"D on real", "D on fake", "G"}
	check := func(stage string, changed int) {
		t.Helper()
		got := losses(tr)
		for i := range got {
			same := math.Abs(got[i]-want[i]) <= 1e-6*math.Abs(want[i])
			if same == (i == changed) {
				t.Errorf("%s: loss of %s %v, without augmentation %v", stage, names[i], got[i], want[i])
			}
		}
	}
	check("identity parameters", -1)
	r := rng.New(6, 1)
	tr.augReal.Draw(r)
	check("real images' parameters drawn", 0)
	want = losses(tr) // the new reference: real images augmented
	tr.augFake.Draw(r)
	check("fake images' parameters drawn", 1)
	want = losses(tr)
	tr.augG.Draw(r)
	check("G step's parameters drawn", 2)
}
