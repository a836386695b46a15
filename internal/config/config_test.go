package config

import (
	"errors"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	cases := []struct {
		key    string
		mutate func(c *Config)
	}{
		{"model", func(c *Config) { c.Model = "stylegan" }},
		{"latent_dim", func(c *Config) { c.LatentDim = 0 }},
		{"data.name", func(c *Config) { c.Data.Name = "cifar" }},
		{"data.path", func(c *Config) { c.Data.Name = "idx" }},
		{"data.path", func(c *Config) { c.Data.Name = "folder" }},
		{"data.labels", func(c *Config) { c.Data.Labels = "l.idx" }},
		{"data.size", func(c *Config) { c.Data.Size = 3 }},
		{"data.size", func(c *Config) { c.Data.Size = 2048 }},
		{"data.channels", func(c *Config) { c.Data.Channels = 2 }},
		{"data.background", func(c *Config) { c.Data.Background = "pink" }},
		{"data.background", func(c *Config) { c.Data.Background = "#12345" }},
		{"data.background", func(c *Config) { c.Data.Background = "#12345g" }},
		{"train.batch_size", func(c *Config) { c.Train.BatchSize = -3 }},
		{"train.batch_size", func(c *Config) { c.Train.BatchSize = 1 }},
		{"train.epochs", func(c *Config) { c.Train.Epochs = -1 }},
		{"train.steps", func(c *Config) { c.Train.Steps = -5 }},
		{"train.epochs", func(c *Config) { c.Train.Epochs, c.Train.Steps = 0, 0 }},
		{"train.n_critic", func(c *Config) { c.Train.NCritic = 0 }},
		{"train.threads", func(c *Config) { c.Train.Threads = -1 }},
		{"train.log_every", func(c *Config) { c.Train.LogEvery = 0 }},
		{"optim.g.name", func(c *Config) { c.Optim.G.Name = "sgd" }},
		{"optim.d.lr", func(c *Config) { c.Optim.D.LR = 0 }},
		{"optim.d.lr", func(c *Config) { c.Optim.D.LR = -1e-4 }},
		{"optim.g.betas", func(c *Config) { c.Optim.G.Betas = []float64{0.5} }},
		{"optim.g.betas", func(c *Config) { c.Optim.G.Betas = []float64{0.5, 1.0} }},
		{"optim.d.eps", func(c *Config) { c.Optim.D.Eps = 0 }},
		{"optim.d.alpha", func(c *Config) { c.Optim.D.Name = "rmsprop"; c.Optim.D.Alpha = 1.5 }},
		{"wgan.clip", func(c *Config) { c.WGAN.Clip = 0 }},
		{"output.sample_every", func(c *Config) { c.Output.SampleEvery = -1 }},
		{"output.checkpoint_every", func(c *Config) { c.Output.CheckpointEvery = -2 }},
		{"output.keep", func(c *Config) { c.Output.Keep = -1 }},
	}
	for _, tc := range cases {
		c := Default()
		tc.mutate(&c)
		err := c.Validate()
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Errorf("%s: no error", tc.key)
			continue
		}
		if errs[0].Key != tc.key {
			t.Errorf("error names %q, want %q (%v)", errs[0].Key, tc.key, err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: multi-line error %q", tc.key, err)
		}
	}
}

func TestSetIsStrict(t *testing.T) {
	good := []struct {
		key   string
		value any
		check func(c Config) bool
	}{
		{"train.batch_size", 32, func(c Config) bool { return c.Train.BatchSize == 32 }},
		{"train.batch_size", 32.0, func(c Config) bool { return c.Train.BatchSize == 32 }},
		{"optim.g.lr", 1, func(c Config) bool { return c.Optim.G.LR == 1 }},
		{"optim.g.lr", 2e-4, func(c Config) bool { return c.Optim.G.LR == 2e-4 }},
		{"optim.d.betas", []any{0.0, 0.9}, func(c Config) bool { return c.Optim.D.Betas[1] == 0.9 }},
		{"seed", 7, func(c Config) bool { return c.Seed == 7 }},
		{"model", "dcgan", func(c Config) bool { return c.Model == "dcgan" }},
		{"data.flip", true, func(c Config) bool { return c.Data.Flip }},
	}
	for _, tc := range good {
		c := Default()
		if err := c.Set(tc.key, tc.value); err != nil || !tc.check(c) {
			t.Errorf("Set(%s, %v): %v", tc.key, tc.value, err)
		}
	}
	bad := []struct {
		key   string
		value any
		msg   string
	}{
		{"train.batch_size", "abc", "want an integer"},
		{"train.batch_size", 64.5, "want an integer"},
		{"train.batch_size", true, "want an integer"},
		{"optim.g.lr", "fast", "want a number"},
		{"optim.d.betas", 0.5, "want a list"},
		{"optim.d.betas", []any{0.5, "x"}, "item 2"},
		{"seed", -1, "non-negative"},
		{"model", 3, "want a string"},
		{"data.flip", "yes", "want true or false"},
		{"data.flip", 1, "want true or false"},
		{"train", 3, "section"},
		{"train.bacth_size", 3, "unknown key"},
		{"nope", 3, "unknown key"},
	}
	for _, tc := range bad {
		c := Default()
		err := c.Set(tc.key, tc.value)
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), tc.key) {
			t.Errorf("Set(%s, %v) = %v, want an error naming the key and %q", tc.key, tc.value, err, tc.msg)
		}
	}
}

func TestBackgroundRGB(t *testing.T) {
	for s, want := range map[string][3]uint8{
		"white": {255, 255, 255}, "Black": {0, 0, 0}, "gray": {128, 128, 128}, "#336699": {0x33, 0x66, 0x99}, "#FF0080": {255, 0, 128},
	} {
		r, g, b, err := Data{Background: s}.BackgroundRGB()
		if err != nil || [3]uint8{r, g, b} != want {
			t.Errorf("%s: %d %d %d (%v), want %v", s, r, g, b, err, want)
		}
	}
}

func TestKeysCoverEveryField(t *testing.T) {
	keys := Keys()
	for _, k := range []string{"model", "seed", "latent_dim", "data.name", "data.path", "data.size", "data.channels", "data.flip", "data.background", "data.cache", "data.labels", "train.batch_size",
		"train.epochs", "train.steps", "optim.g.name", "optim.g.lr", "optim.g.betas", "optim.d.betas",
		"output.dir", "output.sample_every", "output.checkpoint_every", "wgan.clip", "train.n_critic", "train.threads"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("key %s missing", k)
		}
	}
	for k, v := range keys {
		c := Default()
		if err := c.Set(k, v); err != nil {
			t.Errorf("default of %s does not set: %v", k, err)
		}
	}
}
