package checkpoint

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/rng"
	"github.com/gantrain/gantrain/internal/safetensors"
)

// A PyTorch user's weights file (the g./d. state_dicts of pytorch/examples'
// modules, from scripts/torch/make-fixtures.py) opens as a checkpoint whose
// model and shape come from the tensors; a G-only file serves sampling.
func TestReadWeightsFile(t *testing.T) {
	for _, tc := range []struct {
		fixture, model string
		shape          models.Shape
		prefixes       []string
	}{
		{"dcgan64", "dcgan", models.Shape{Latent: 100, C: 3, H: 64, W: 64, Width: 16}, []string{"g.", "d."}},
		{"dcgan32", "dcgan", models.Shape{Latent: 100, C: 3, H: 32, W: 32, Width: 8}, []string{"g."}},
		{"cgan32", "cgan", models.Shape{Latent: 100, C: 3, H: 32, W: 32, Width: 8, Classes: 5}, []string{"g.", "d."}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			src, err := safetensors.ReadFile(filepath.Join("..", "..", "testdata", "torch", tc.fixture+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			var ts []safetensors.Tensor
			for _, x := range src.Tensors {
				for _, p := range tc.prefixes {
					if strings.HasPrefix(x.Name, p) {
						ts = append(ts, x)
					}
				}
			}
			c := readTensorsFile(t, ts)
			cfg := c.State.Config
			got := models.Shape{Latent: cfg.LatentDim, C: cfg.Data.Channels, H: cfg.Data.Size, W: cfg.Data.Size, Width: cfg.Width, Classes: len(c.State.Classes)}
			if c.State.Model != tc.model || got != tc.shape {
				t.Fatalf("inferred %s %+v, want %s %+v", c.State.Model, got, tc.model, tc.shape)
			}
			m, err := models.ForConfig(cfg, len(c.State.Classes), rng.New(1, 1))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.LoadModel(m); err != nil {
				t.Fatal(err)
			}
			want, _ := src.Get("g.main.0.weight")
			w, _ := want.Float32s()
			i := 0
			if m.Conditional {
				i = 1 // g.embed.weight comes first
			}
			if g := m.G.Params()[i].Data(); g[5] != w[5] {
				t.Errorf("g.main.0.weight[5] = %v, file %v", g[5], w[5])
			}
		})
	}
	bad := filepath.Join(t.TempDir(), "x.safetensors")
	one, _ := safetensors.FromFloat32("d.main.0.weight", []int{1}, []float32{1})
	if err := writeTensors(bad, []safetensors.Tensor{one}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(bad); err == nil || !strings.Contains(err.Error(), "no generator") {
		t.Errorf("a file without a generator: %v", err)
	}
}

// readBareWeights builds model at shape s, writes its weights alone (no
// state.json) and opens the file as gantrain import does.
func readBareWeights(t *testing.T, model string, s models.Shape) *Checkpoint {
	t.Helper()
	m, err := models.Build(model, s, rng.New(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := modelTensors(m)
	if err != nil {
		t.Fatal(err)
	}
	return readTensorsFile(t, ts)
}

// readTensorsFile writes ts alone to a weights file (no state.json) and
// opens it as gantrain import does.
func readTensorsFile(t *testing.T, ts []safetensors.Tensor) *Checkpoint {
	t.Helper()
	path := filepath.Join(t.TempDir(), "weights.safetensors")
	if err := writeTensors(path, ts, nil); err != nil {
		t.Fatal(err)
	}
	c, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A bare weights file of a semi-supervised GAN (D with K outputs) opens as
// sgan with K classes, gray or RGB, at any size.
func TestReadWeightsFileSGAN(t *testing.T) {
	for _, s := range []models.Shape{
		{Latent: 100, C: 1, H: 28, W: 28, Width: models.DefaultWidth, Classes: 10},
		{Latent: 64, C: 3, H: 32, W: 32, Width: models.DefaultWidth, Classes: 7},
		{Latent: 100, C: 1, H: 20, W: 20, Width: models.DefaultWidth, Classes: 3},
	} {
		c := readBareWeights(t, "sgan", s)
		cfg := c.State.Config
		got := models.Shape{Latent: cfg.LatentDim, C: cfg.Data.Channels, H: cfg.Data.Size, W: cfg.Data.Size, Width: cfg.Width, Classes: len(c.State.Classes)}
		if c.State.Model != "sgan" || got != s {
			t.Fatalf("inferred %s %+v, want sgan %+v", c.State.Model, got, s)
		}
		back, _ := models.ForConfig(cfg, len(c.State.Classes), rng.New(2, 2))
		if err := c.LoadModel(back); err != nil {
			t.Fatal(err)
		}
	}
}

// A bare weights file of a DCGAN whose D has no batch norm (d_norm: none,
// wgan-gp's critic: a bias where batch norm was) opens with d_norm none,
// in both layouts.
func TestReadWeightsFileDNormNone(t *testing.T) {
	for _, s := range []models.Shape{
		{Latent: 100, C: 1, H: 28, W: 28, Width: 8, DNoBatchNorm: true},
		{Latent: 100, C: 3, H: 32, W: 32, Width: 8, DNoBatchNorm: true},
	} {
		c := readBareWeights(t, "dcgan", s)
		if cfg := c.State.Config; c.State.Model != "dcgan" || cfg.DNorm != "none" || cfg.Data.Size != s.H {
			t.Fatalf("%d px: inferred %s, d_norm %q, %d px", s.H, c.State.Model, cfg.DNorm, cfg.Data.Size)
		}
		back, _ := models.ForConfig(c.State.Config, 0, rng.New(2, 2))
		if err := c.LoadModel(back); err != nil {
			t.Fatal(err)
		}
	}
}
