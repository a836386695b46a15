package models_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/config"
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

// The semi-supervised GAN's networks are Salimans et al.'s fully connected
// ones, D with K outputs, at any image size.
func TestSGANShapes(t *testing.T) {
	m, err := models.Build("sgan", models.Shape{Latent: 100, C: 1, H: 28, W: 28, Classes: 10}, rng.New(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Classifier || m.Conditional || m.Classes != 10 || m.Loss != models.SemiSupervised {
		t.Fatalf("sgan: classifier %v conditional %v classes %d loss %v", m.Classifier, m.Conditional, m.Classes, m.Loss)
	}
	want := map[string][]int{"d.fc6.weight": {10, 250}, "d.fc6.bias": {10}, "d.fc1.weight": {1000, 784}, "g.fc1.weight": {500, 100}, "g.fc3.weight": {784, 500}, "g.fc2_bn.weight": {500}}
	m32, err := models.Build("sgan", models.Shape{Latent: 100, C: 3, H: 32, W: 32, Classes: 7, Width: 8}, rng.New(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	want32 := map[string][]int{"d.fc6.weight": {7, 250}, "d.fc1.weight": {1000, 3072}, "g.fc3.bias": {3072}}
	for _, c := range []struct {
		m    *models.GAN
		want map[string][]int
	}{{m, want}, {m32, want32}} {
		for name, w := range c.want {
			if got := shapeOf(c.m, name); fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("%s: shape %v, want %v", name, got, w)
			}
		}
	}
	if _, err := models.Build("sgan", models.Shape{Latent: 100, C: 1, H: 28, W: 28, Classes: 1}, rng.New(1, 1)); err == nil {
		t.Error("a one-class classifier was built")
	}
	// Evaluation mode: each image's logits do not depend on its batch.
	for _, c := range []*models.GAN{m, m32} {
		pix := c.C * c.H * c.W
		imgs := make([]float32, 5*pix)
		rng.New(2, 2).FillNormal(imgs, 0, 0.5)
		a, err := gen.NewClassifier(c, 5)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := gen.NewClassifier(c, 2)
		la, err := a.Logits(imgs)
		if err != nil {
			t.Fatal(err)
		}
		lb, _ := b.Logits(imgs)
		cls, _ := b.Classify(imgs)
		a.Close()
		b.Close()
		if len(la) != 5*c.Classes {
			t.Fatalf("%d logits, want %d", len(la), 5*c.Classes)
		}
		for i := range la {
			if math.Abs(float64(la[i]-lb[i])) > 1e-5*(1+math.Abs(float64(la[i]))) {
				t.Fatalf("logit %d: %v in a batch of 5, %v in batches of 2", i, la[i], lb[i])
			}
		}
		for i, y := range cls {
			for j := 0; j < c.Classes; j++ {
				if lb[i*c.Classes+j] > lb[i*c.Classes+y] {
					t.Errorf("image %d: class %d, but logit %d is larger", i, y, j)
				}
			}
		}
	}
	dc, _ := models.New("dcgan", 100, rng.New(1, 1))
	if _, err := gen.NewClassifier(dc, 4); err == nil || !strings.Contains(err.Error(), "sgan") {
		t.Errorf("classifier of a dcgan: %v", err)
	}
}

// The config key loss replaces the model's own loss; empty keeps it.
func TestForConfigLoss(t *testing.T) {
	cases := []struct {
		model, loss string
		want        models.Loss
	}{
		{"dcgan", "", models.BCE}, {"wgan", "", models.Wasserstein}, {"dcgan", "hinge", models.Hinge},
		{"cgan", "lsgan", models.LSGAN}, {"wgan", "bce", models.BCE}, {"gan", "wasserstein", models.Wasserstein},
	}
	for _, c := range cases {
		cfg := config.Default()
		cfg.Model, cfg.Loss, cfg.Width = c.model, c.loss, 4
		m, err := models.ForConfig(cfg, 10, rng.New(1, 1))
		if err != nil {
			t.Fatal(err)
		}
		if m.Loss != c.want {
			t.Errorf("%s with loss %q: %v, want %v", c.model, c.loss, m.Loss, c.want)
		}
	}
	cfg := config.Default()
	cfg.Model, cfg.Loss = "sgan", "hinge"
	if _, err := models.ForConfig(cfg, 10, rng.New(1, 1)); err == nil {
		t.Error("sgan with loss hinge: no error")
	}
}

// Spectral normalisation covers D's weight matrices and kernels (not its
// embedding, not batch norm, not G), leaves the seed's weights as they are,
// saves a u per weight, and is refused for the classifier D.
func TestSpectralNormParams(t *testing.T) {
	s := models.MNIST(100)
	s.Width = 8
	plain, err := models.Build("cgan", s, rng.New(2, 1))
	if err != nil {
		t.Fatal(err)
	}
	s.SpectralNorm = true
	m, err := models.Build("cgan", s, rng.New(2, 1))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sn := range m.SN {
		names = append(names, sn.P.Name)
	}
	if got, want := strings.Join(names, ","), "d.conv1.weight,d.conv2.weight,d.fc.weight"; got != want {
		t.Errorf("normalised %s, want %s", got, want)
	}
	pp := plain.Params()
	for i, p := range m.Params() {
		for j, v := range p.Data() {
			if v != pp[i].Data()[j] {
				t.Fatalf("%s[%d] changed by spectral_norm", p.Name, j)
			}
		}
	}
	if n, k := len(m.Buffers()), len(plain.Buffers()); n != k+3 || m.Buffers()[k].Name != "d.conv1.weight_u" {
		t.Errorf("%d buffers (first extra %s), want %d + 3 u vectors", n, m.Buffers()[k].Name, k)
	}
	if !m.Shape().SpectralNorm || plain.Shape().SpectralNorm {
		t.Error("Shape does not record spectral_norm")
	}
	if _, err := models.Build("sgan", s, rng.New(2, 1)); err == nil {
		t.Error("sgan with spectral norm: no error")
	}
}

// The minibatch standard-deviation layer widens D's last layer by one
// plane (49 inputs at 28 px, one channel in pytorch/examples' layout), and
// is refused where D is not the convolutional one-output D.
func TestMinibatchStdShapes(t *testing.T) {
	s := models.MNIST(100)
	s.Width, s.MinibatchStd = 8, true
	m, err := models.Build("dcgan", s, rng.New(2, 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.D.Params() {
		if p.Name == "d.fc.weight" && fmt.Sprint(p.Shape()) != "[1 833]" { // 2·8·7·7 + 49
			t.Errorf("d.fc.weight %v, want [1 833]", p.Shape())
		}
	}
	s32 := models.Shape{Latent: 10, C: 3, H: 32, W: 32, Width: 4, MinibatchStd: true}
	if m, err = models.Build("wgan", s32, rng.New(2, 1)); err != nil {
		t.Fatal(err)
	}
	ps := m.D.Params()
	if last := ps[len(ps)-1]; fmt.Sprint(last.Shape()) != "[1 17 4 4]" { // 4·4 channels + 1
		t.Errorf("%s %v, want [1 17 4 4]", last.Name, last.Shape())
	}
	if !m.Shape().MinibatchStd {
		t.Error("Shape does not record minibatch_std")
	}
	for _, name := range []string{"sgan", "gan"} {
		if _, err := models.Build(name, s, rng.New(2, 1)); err == nil {
			t.Errorf("%s with minibatch_std: no error", name)
		}
	}
}

// d_norm: none builds dcgan's and wgan's D without batch norm: the same
// networks, weight for weight, as wgan-gp's for the same seed (so a run of
// dcgan with d_norm: none and one of wgan-gp under the dcgan loss train the
// same model), at 28 px and in pytorch/examples' layout; the shape records
// it, and the conditional and classifier models refuse it.
func TestDNormNone(t *testing.T) {
	for _, s := range []models.Shape{
		{Latent: 10, C: 1, H: 28, W: 28, Width: 8},
		{Latent: 10, C: 3, H: 32, W: 32, Width: 4},
	} {
		ref, err := models.Build("wgan-gp", s, rng.New(3, 1))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := models.Build("dcgan", s, rng.New(3, 1))
		if err != nil {
			t.Fatal(err)
		}
		if len(plain.D.BatchNorms()) == 0 {
			t.Fatalf("%d px: dcgan's D has no batch norm without d_norm", s.H)
		}
		s.DNoBatchNorm = true
		for _, name := range []string{"dcgan", "wgan"} {
			m, err := models.Build(name, s, rng.New(3, 1))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(m.D.BatchNorms()); n != 0 {
				t.Errorf("%s %d px, d_norm none: D has %d batch norms", name, s.H, n)
			}
			if !m.Shape().DNoBatchNorm {
				t.Errorf("%s %d px: Shape does not record d_norm none", name, s.H)
			}
			a, b := m.Params(), ref.Params()
			if len(a) != len(b) {
				t.Fatalf("%s %d px: %d params, wgan-gp %d", name, s.H, len(a), len(b))
			}
			for i := range a {
				if a[i].Name != b[i].Name || fmt.Sprint(a[i].Shape()) != fmt.Sprint(b[i].Shape()) ||
					fmt.Sprint(a[i].Data()) != fmt.Sprint(b[i].Data()) {
					t.Errorf("%s %d px: param %d is %s %v, wgan-gp's %s %v (or other values)", name, s.H, i, a[i].Name, a[i].Shape(), b[i].Name, b[i].Shape())
				}
			}
		}
		s.Classes = 10
		for _, name := range []string{"cgan", "sgan", "gan"} {
			if _, err := models.Build(name, s, rng.New(3, 1)); err == nil {
				t.Errorf("%s with a D without batch norm: no error", name)
			}
		}
	}
}
