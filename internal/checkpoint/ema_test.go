package checkpoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/optim"
)

// WithEMA writes the moving average of G as its own file under G's names;
// LoadEMA restores it exactly, batch-norm statistics included; a
// checkpoint without it says so.
func TestEMARoundTrip(t *testing.T) {
	m, ema := newModel(t, 1), newModel(t, 2) // ema.G: other values
	for _, st := range ema.G.BatchNorms() {
		for i := range st.RunMean {
			st.RunMean[i] = 0.5 + 0.01*float32(i%7)
		}
	}
	dir := t.TempDir()
	cfg := config.Default()
	o, _ := optim.New(cfg.Optim.G)
	path, err := Save(dir, State{Step: 3, Config: cfg}, m, []Optim{{Net: "g", O: o, Params: m.G.Params()}}, WithEMA(ema.G))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasEMA() {
		t.Fatal("no moving average read back")
	}
	got := newModel(t, 3)
	if err := c.LoadEMA(got.G); err != nil {
		t.Fatal(err)
	}
	want := ema.G.Params()
	for i, p := range got.G.Params() {
		for j, v := range p.Data() {
			if v != want[i].Data()[j] {
				t.Fatalf("%s[%d] = %v, saved %v", p.Name, j, v, want[i].Data()[j])
			}
		}
	}
	wb := ema.G.Buffers()
	for i, b := range got.G.Buffers() {
		for j, v := range b.Data {
			if v != wb[i].Data[j] {
				t.Fatalf("%s[%d] = %v, saved %v", b.Name, j, v, wb[i].Data[j])
			}
		}
	}
	plain, err := Read(save(t, t.TempDir(), m, 3))
	if err != nil {
		t.Fatal(err)
	}
	if plain.HasEMA() {
		t.Error("a checkpoint saved without WithEMA has a moving average")
	}
	if err := plain.LoadEMA(got.G); err == nil || !strings.Contains(err.Error(), "train.ema") {
		t.Errorf("LoadEMA without one: %v, want an error naming train.ema", err)
	}
	if _, err := os.Stat(filepath.Join(path, EMAFile)); err != nil {
		t.Errorf("%s not written: %v", EMAFile, err)
	}
}
