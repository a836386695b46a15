package checkpoint

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/rng"
)

// FuzzRead feeds arbitrary state.json and model.safetensors bytes to Read
// and LoadModel: they must never panic, errors must be one line naming a
// file, and a load that fails must leave the model unchanged.
func FuzzRead(f *testing.F) {
	dir := f.TempDir()
	m, err := models.New("dcgan", 8, rng.New(1, 1))
	if err != nil {
		f.Fatal(err)
	}
	good, err := Save(dir, State{Step: 3, Config: smallConfig()}, m, nil)
	if err != nil {
		f.Fatal(err)
	}
	state, _ := os.ReadFile(filepath.Join(good, StateFile))
	weights, _ := os.ReadFile(filepath.Join(good, ModelFile))
	f.Add(state, weights)
	f.Add(state, weights[:len(weights)/2])
	f.Add([]byte(`{"format_version":1,"model":"dcgan","step":1,"epoch":0,"config":{"model":"dcgan"}}`), weights)
	f.Add([]byte(`{}`), []byte{})
	f.Add(state, []byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      "))
	// One directory and one model per (name, latent size) serve every input.
	d := filepath.Join(f.TempDir(), "step-000001")
	os.MkdirAll(d, 0o755)
	cache := map[string]*models.GAN{}
	f.Fuzz(func(t *testing.T, state, weights []byte) {
		os.WriteFile(filepath.Join(d, StateFile), state, 0o644)
		os.WriteFile(filepath.Join(d, ModelFile), weights, 0o644)
		c, err := Read(d)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), d) {
				t.Fatalf("error %q: want one line naming the checkpoint", err)
			}
			return
		}
		latent := c.State.Config.LatentDim
		if latent != 8 && latent != 100 {
			return // other sizes only cost model construction
		}
		key := fmt.Sprint(c.State.Model, latent)
		model, ok := cache[key]
		if !ok {
			if model, err = models.New(c.State.Model, latent, rng.New(2, 2)); err != nil {
				return
			}
			cache[key] = model
		}
		before := append([]float32(nil), model.Params()[0].Data()...)
		if err := c.LoadModel(model); err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			for i, v := range model.Params()[0].Data() {
				if v != before[i] {
					t.Fatal("a failed load changed the model")
				}
			}
		}
	})
}

func smallConfig() config.Config {
	c := config.Default()
	c.LatentDim = 8
	return c
}
