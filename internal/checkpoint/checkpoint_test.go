package checkpoint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/optim"
	"github.com/gantrain/gantrain/internal/rng"
	"github.com/gantrain/gantrain/internal/safetensors"
)

func newModel(t *testing.T, seed uint64) *models.GAN {
	t.Helper()
	m, err := models.New("dcgan", 100, rng.New(seed, 1))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func generate(t *testing.T, m *models.GAN) []float32 {
	t.Helper()
	s, err := gen.NewSampler(m, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Generate(gen.Noise(5, 16, m.Latent), nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func save(t *testing.T, dir string, m *models.GAN, step int) string {
	t.Helper()
	cfg := config.Default()
	o, _ := optim.New(cfg.Optim.G)
	path, err := Save(dir, State{Step: step, Config: cfg}, m, []Optim{{Net: "g", O: o, Params: m.G.Params()}})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRoundTripGivesIdenticalGenerator(t *testing.T) {
	a := newModel(t, 1)
	// Running statistics matter in evaluation mode: make them non-trivial.
	for _, st := range a.G.BatchNorms() {
		for i := range st.RunMean {
			st.RunMean[i] = 0.01 * float32(i%7)
			st.RunVar[i] = 1 + 0.1*float32(i%5)
		}
	}
	dir := t.TempDir()
	path := save(t, dir, a, 30)
	if filepath.Base(path) != "step-000030" {
		t.Fatalf("checkpoint dir %s", path)
	}
	c, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	b := newModel(t, 2)
	if string(f32bytes(generate(t, a))) == string(f32bytes(generate(t, b))) {
		t.Fatal("two seeds gave the same generator")
	}
	if err := c.LoadModel(b); err != nil {
		t.Fatal(err)
	}
	ga, gb := generate(t, a), generate(t, b)
	for i := range ga {
		if ga[i] != gb[i] {
			t.Fatalf("pixel %d: %v after load, %v before save", i, gb[i], ga[i])
		}
	}
	latest, err := Latest(dir)
	if err != nil || latest != path {
		t.Fatalf("Latest = %s, %v; want %s", latest, err, path)
	}
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = append(b, byte(int32(x*1e6)), byte(int32(x*1e6)>>8))
	}
	return b
}

// The weights file uses the reference names and PyTorch shapes.
func TestReferenceNamesAndShapes(t *testing.T) {
	dir := t.TempDir()
	path := save(t, dir, newModel(t, 1), 1)
	f, err := safetensors.ReadFile(filepath.Join(path, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{
		"g.fc.weight": {6272, 100}, "g.fc_bn.weight": {6272}, "g.fc_bn.bias": {6272},
		"g.fc_bn.running_mean": {6272}, "g.fc_bn.running_var": {6272},
		"g.up1.weight": {128, 64, 4, 4}, "g.up1_bn.weight": {64}, "g.up1_bn.bias": {64},
		"g.up1_bn.running_mean": {64}, "g.up1_bn.running_var": {64},
		"g.up2.weight": {64, 1, 4, 4}, "g.up2.bias": {1},
		"d.conv1.weight": {64, 1, 4, 4}, "d.conv1.bias": {64}, "d.conv2.weight": {128, 64, 4, 4},
		"d.conv2_bn.weight": {128}, "d.conv2_bn.bias": {128}, "d.conv2_bn.running_mean": {128},
		"d.conv2_bn.running_var": {128}, "d.fc.weight": {1, 6272}, "d.fc.bias": {1},
	}
	if len(f.Tensors) != len(want) {
		t.Errorf("%d tensors, want %d: %v", len(f.Tensors), len(want), f.Names())
	}
	for name, shape := range want {
		tt, ok := f.Get(name)
		if !ok {
			t.Errorf("missing %s", name)
			continue
		}
		if tt.DType != safetensors.F32 || !equalInts(tt.Shape, shape) {
			t.Errorf("%s: %s %v, want F32 %v", name, tt.DType, tt.Shape, shape)
		}
	}
}

func TestBadCheckpoints(t *testing.T) {
	dir := t.TempDir()
	good := save(t, dir, newModel(t, 1), 1)
	copyDir := func(t *testing.T) string {
		t.Helper()
		d := filepath.Join(t.TempDir(), "step-000001")
		os.MkdirAll(d, 0o755)
		for _, n := range []string{ModelFile, OptimFile, StateFile} {
			b, _ := os.ReadFile(filepath.Join(good, n))
			os.WriteFile(filepath.Join(d, n), b, 0o644)
		}
		return d
	}
	cases := []struct {
		name   string
		break_ func(d string)
		file   string
		msg    string
	}{
		{"truncated weights", func(d string) {
			p := filepath.Join(d, ModelFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		}, ModelFile, ""},
		{"missing state", func(d string) { os.Remove(filepath.Join(d, StateFile)) }, StateFile, ""},
		{"bad json", func(d string) { os.WriteFile(filepath.Join(d, StateFile), []byte("{"), 0o644) }, StateFile, ""},
		{"unknown field", func(d string) {
			os.WriteFile(filepath.Join(d, StateFile), []byte(`{"format_version":1,"model":"dcgan","bogus":1}`), 0o644)
		}, StateFile, "bogus"},
		{"future version", func(d string) {
			b, _ := os.ReadFile(filepath.Join(d, StateFile))
			os.WriteFile(filepath.Join(d, StateFile), []byte(strings.Replace(string(b), `"format_version": 1`, `"format_version": 9`, 1)), 0o644)
		}, StateFile, "format version"},
		{"unknown model", func(d string) {
			b, _ := os.ReadFile(filepath.Join(d, StateFile))
			os.WriteFile(filepath.Join(d, StateFile), []byte(strings.Replace(string(b), `"model": "dcgan"`, `"model": "biggan"`, 1)), 0o644)
		}, StateFile, "unknown model"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := copyDir(t)
			tc.break_(d)
			_, err := Read(d)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, filepath.Join(d, tc.file)) || !strings.Contains(msg, tc.msg) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q should name %s and say %q on one line", msg, tc.file, tc.msg)
			}
		})
	}

	// Weights that are well-formed but wrong for the model.
	other := func(edit func(ts []safetensors.Tensor) []safetensors.Tensor, msg string) {
		d := copyDir(t)
		p := filepath.Join(d, ModelFile)
		f, err := safetensors.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ts := edit(append([]safetensors.Tensor(nil), f.Tensors...))
		b, err := safetensors.Marshal(ts, f.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, b, 0o644)
		c, err := Read(d)
		if err != nil {
			t.Fatal(err)
		}
		m := newModel(t, 3)
		before := generate(t, m)
		err = c.LoadModel(m)
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), p) {
			t.Errorf("LoadModel = %v, want an error naming %s with %q", err, p, msg)
		}
		after := generate(t, m)
		for i := range before {
			if before[i] != after[i] {
				t.Fatalf("%s: a failed load changed the model", msg)
			}
		}
	}
	other(func(ts []safetensors.Tensor) []safetensors.Tensor { return ts[1:] }, "missing tensor")
	other(func(ts []safetensors.Tensor) []safetensors.Tensor {
		x, _ := safetensors.FromFloat32("g.extra", []int{1}, []float32{1})
		return append(ts, x)
	}, "unexpected tensor")
	other(func(ts []safetensors.Tensor) []safetensors.Tensor {
		for i := range ts {
			if ts[i].Name == "d.fc.bias" {
				ts[i].DType, ts[i].Data = safetensors.I32, []byte{0, 0, 0, 0}
			}
		}
		return ts
	}, "want F32")
	other(func(ts []safetensors.Tensor) []safetensors.Tensor {
		for i := range ts {
			if ts[i].Name == "g.up2.weight" {
				ts[i].Shape = []int{1, 64, 4, 4}
			}
		}
		return ts
	}, "shape")
	other(func(ts []safetensors.Tensor) []safetensors.Tensor {
		for i := range ts {
			if ts[i].Name == "g.up2.bias" {
				ts[i].Data = []byte{0, 0, 0xc0, 0x7f} // NaN
			}
		}
		return ts
	}, "non-finite")
}

func TestPruneKeepsNewest(t *testing.T) {
	dir := t.TempDir()
	m := newModel(t, 1)
	for _, s := range []int{10, 20, 30, 40} {
		save(t, dir, m, s)
	}
	if err := Prune(dir, 2); err != nil {
		t.Fatal(err)
	}
	steps, _ := List(dir)
	if len(steps) != 2 || steps[0] != 30 || steps[1] != 40 {
		t.Fatalf("kept %v, want [30 40]", steps)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "checkpoints"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp") {
			t.Fatalf("left a temporary %s", e.Name())
		}
	}
}

// A checkpoint written before a configuration key existed reads with that
// key's default, and its configuration still validates.
func TestOlderStateGetsNewKeysDefaults(t *testing.T) {
	dir := t.TempDir()
	path := save(t, dir, newModel(t, 1), 5)
	sp := filepath.Join(path, StateFile)
	b, err := os.ReadFile(sp)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	cfg := st["config"].(map[string]any)
	if _, ok := cfg["sgan"]; !ok {
		t.Fatalf("state.json has no sgan section to remove: %v", cfg)
	}
	delete(cfg, "sgan")
	if b, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.State.Config.SGAN.GLoss != config.Default().SGAN.GLoss {
		t.Errorf("sgan.g_loss %q, want the default %q", c.State.Config.SGAN.GLoss, config.Default().SGAN.GLoss)
	}
	if err := c.State.Config.Validate(); err != nil {
		t.Errorf("the older configuration does not validate: %v", err)
	}
}
