package models_test

import (
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/rng"
)

func TestRegistry(t *testing.T) {
	names := models.Names()
	for _, want := range []string{"cgan", "dcgan", "gan", "wgan"} {
		if _, ok := models.Lookup(want); !ok {
			t.Errorf("model %s not registered (have %v)", want, names)
		}
	}
	_, err := models.New("stylegan", 100, rng.New(1, 1))
	if err == nil || !strings.Contains(err.Error(), "dcgan") {
		t.Errorf("unknown model error %v should list the known models", err)
	}
	for _, n := range names {
		m, err := models.New(n, 100, rng.New(1, 1))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, p := range m.Params() {
			if seen[p.Name] || !(strings.HasPrefix(p.Name, "g.") || strings.HasPrefix(p.Name, "d.")) {
				t.Errorf("%s: bad or duplicate param name %q", n, p.Name)
			}
			seen[p.Name] = true
		}
	}
}

func shapeOf(m *models.GAN, name string) []int {
	for _, p := range m.Params() {
		if p.Name == name {
			return p.Shape()
		}
	}
	return nil
}

func TestCGANWeights(t *testing.T) {
	m, _ := models.New("cgan", 100, rng.New(1, 1))
	for name, want := range map[string][]int{
		"g.embed.weight": {10, 100}, "d.embed.weight": {10, 784}, "d.conv1.weight": {64, 2, 4, 4},
	} {
		got := shapeOf(m, name)
		if len(got) != len(want) {
			t.Errorf("%s: shape %v, want %v", name, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: shape %v, want %v", name, got, want)
			}
		}
	}
}

func TestCGANLabelPath(t *testing.T) {
	m, _ := models.New("cgan", 100, rng.New(1, 1))
	s, err := gen.NewSampler(m, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	z := gen.Noise(3, 4, 100)
	a, err := s.Generate(z, []int{0, 1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Generate(z, []int{0, 1, 2, 3})
	c, _ := s.Generate(z, []int{0, 1, 2, 7}) // only the last label differs
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same z and y gave different images")
		}
	}
	px := 28 * 28
	same := func(x, y []float32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a[:3*px], c[:3*px]) {
		t.Error("changing the label of image 4 changed images 1-3")
	}
	if same(a[3*px:], c[3*px:]) {
		t.Error("changing the label did not change the image")
	}
	if _, err := s.Generate(z, []int{0, 1, 2, 10}); err == nil {
		t.Error("label 10 accepted by a 10-class model")
	}
}
