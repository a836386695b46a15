package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadConfig feeds arbitrary YAML files and --set values to the config
// loader: it must never panic, and every error must be one line.
func FuzzLoadConfig(f *testing.F) {
	for _, name := range []string{"dcgan", "dcgan-paper", "wgan", "wgan-gp", "cgan", "gan", "sgan", "fashion-sgan"} {
		b, err := os.ReadFile(filepath.Join("../../configs", name+".yaml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "train.steps=3")
	}
	f.Add([]byte("train: [\n"), "")
	f.Add([]byte("train:\n  batch_size: lots\n"), "x")
	f.Add([]byte("optim:\n  g:\n    betas: [0.5, .nan]\n"), "optim.d.betas=[1e400]")
	f.Add([]byte("model: &a [*a]\n"), "model=*")
	f.Add([]byte("seed: -1\nlatent_dim: 9999999999999999999999\n"), "seed=18446744073709551616")
	f.Fuzz(func(t *testing.T, yaml []byte, set string) {
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, yaml, 0o644); err != nil {
			t.Fatal(err)
		}
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		cfg, err := loadConfig(configSources{File: p, Sets: sets})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("loadConfig accepted a config that does not validate: %v", err)
		}
	})
}
