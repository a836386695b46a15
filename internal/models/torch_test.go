package models_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/rng"
	"github.com/gantrain/gantrain/internal/safetensors"
	"gorgonia.org/gorgonia"
)

// The fixtures of scripts/torch/make-fixtures.py: pytorch/examples' DCGAN
// modules (scripts/torch/models.py) written by PyTorch 1.13 with their
// state_dict names behind g./d., the z and images fed to them, and their
// outputs in evaluation and training mode.
var torchFixtures = []struct {
	file  string
	model string
	shape models.Shape
}{
	{"dcgan64.safetensors", "dcgan", models.Shape{Latent: 100, C: 3, H: 64, W: 64, Width: 16}},
	{"dcgan32.safetensors", "dcgan", models.Shape{Latent: 100, C: 3, H: 32, W: 32, Width: 8}},
	{"cgan32.safetensors", "cgan", models.Shape{Latent: 100, C: 3, H: 32, W: 32, Width: 8, Classes: 5}},
}

func TestPyTorchExamplesFixtures(t *testing.T) {
	for _, fx := range torchFixtures {
		t.Run(fx.file, func(t *testing.T) {
			path := filepath.Join("..", "..", "testdata", "torch", fx.file)
			f, err := safetensors.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			weights := &safetensors.File{}
			for _, tn := range f.Tensors {
				if strings.HasPrefix(tn.Name, "g.") || strings.HasPrefix(tn.Name, "d.") {
					weights.Tensors = append(weights.Tensors, tn)
				}
			}
			m, err := models.Build(fx.model, fx.shape, rng.New(1, 1))
			if err != nil {
				t.Fatal(err)
			}
			// Every tensor of the PyTorch state_dicts, and nothing more,
			// loads by name with its PyTorch shape.
			if err := checkpoint.LoadTensors(path, weights, m); err != nil {
				t.Fatal(err)
			}
			if got := m.G.BatchNorms()[0].Tracked; got != 7 {
				t.Errorf("g.main.1.num_batches_tracked loaded as %d, want 7", got)
			}
			get := func(name string) []float32 {
				tn, ok := f.Get(name)
				if !ok {
					t.Fatalf("fixture has no %s", name)
				}
				v, err := tn.Float32s()
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			z, x := get("z"), get("x")
			b := len(z) / fx.shape.Latent
			var labels []int
			if m.Conditional {
				tn, _ := f.Get("y")
				ys, err := tn.Int64s()
				if err != nil {
					t.Fatal(err)
				}
				for _, y := range ys {
					labels = append(labels, int(y))
				}
			}
			pix := fx.shape.C * fx.shape.H * fx.shape.W

			// G in evaluation mode, through the sampler gantrain samples with.
			s, err := gen.NewSampler(m, b)
			if err != nil {
				t.Fatal(err)
			}
			gEval, err := s.Generate(z, labels)
			s.Close()
			if err != nil {
				t.Fatal(err)
			}
			near(t, "G eval", gEval, get("g_eval"))

			// G and D in training mode (batch statistics), and D in
			// evaluation mode, on graphs built here.
			run := func(train bool, net models.Net, in []float32, inShape ...int) []float32 {
				g := nn.NewGraph(train)
				xn, xb := g.Input("x", inShape...)
				var y *gorgonia.Node
				var yb []float32
				if m.Conditional {
					y, yb = g.Input("labels", b)
					for i, l := range labels {
						yb[i] = float32(l)
					}
				}
				kernels.ToBatchLast(in, xb, len(in)/b, b)
				g.FreezeStats(net.BatchNorms()...)
				out := net.Forward(g, xn, y)
				mc, err := g.Compile()
				if err != nil {
					t.Fatal(err)
				}
				defer mc.Close()
				if err := mc.Run(); err != nil {
					t.Fatal(err)
				}
				v := out.Value().Data().([]float32)
				res := make([]float32, len(v))
				kernels.FromBatchLast(v, res, len(v)/b, b)
				return res
			}
			near(t, "G train", run(true, m.G, z, fx.shape.Latent, b), get("g_train"))
			near(t, "D eval", run(false, m.D, x, fx.shape.C, fx.shape.H, fx.shape.W, b), get("d_eval_logit"))
			near(t, "D train", run(true, m.D, x, fx.shape.C, fx.shape.H, fx.shape.W, b), get("d_train_logit"))
			if len(gEval) != b*pix {
				t.Errorf("G gave %d values, want %d", len(gEval), b*pix)
			}
		})
	}
}

func near(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, PyTorch %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		worst = max(worst, math.Abs(float64(got[i])-float64(want[i])))
	}
	t.Logf("%s: max |gantrain − PyTorch| = %.3g", what, worst)
	if worst > 1e-4 {
		t.Errorf("%s: max |gantrain − PyTorch| = %.3g > 1e-4", what, worst)
	}
}
