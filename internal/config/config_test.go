package config

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	Models = append(Models, "sgan")
	defer func() { Models = Models[:len(Models)-1] }()
	c.Model, c.Data.Labeled, c.Train.SupervisedOnly, c.SGAN.GLoss = "sgan", 100, true, "non_saturating"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// The remedies' keys are off by default; on, they are valid for the
	// DCGAN family and refused for sgan, naming the key.
	d := Default()
	if d.Loss != "" || d.Train.EMA != 0 || d.SpectralNorm || d.MinibatchStd || d.Train.Augment != nil {
		t.Errorf("remedies on by default: loss %q, train.ema %g, spectral_norm %v", d.Loss, d.Train.EMA, d.SpectralNorm)
	}
	d.Loss, d.Train.EMA, d.SpectralNorm, d.MinibatchStd = "hinge", 0.999, true, true
	d.Train.Augment = []string{"color", "translation", "cutout"}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	for key, mutate := range map[string]func(*Config){
		"loss":          func(c *Config) { c.Loss = "lsgan" },
		"spectral_norm": func(c *Config) { c.SpectralNorm = true },
		"minibatch_std": func(c *Config) { c.MinibatchStd = true },
		"train.augment": func(c *Config) { c.Train.Augment = []string{"cutout"} },
	} {
		c := Default()
		c.Model = "sgan"
		mutate(&c)
		var errs Errors
		if err := c.Validate(); !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != key {
			t.Errorf("sgan with %s: error %v, want one naming %s", key, err, key)
		}
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
		{"train.ema", func(c *Config) { c.Train.EMA = 1 }},
		{"train.ema", func(c *Config) { c.Train.EMA = -0.5 }},
		{"train.ema", func(c *Config) { c.Train.EMA = math.NaN() }},
		{"loss", func(c *Config) { c.Loss = "wgan-gp" }},
		{"optim.g.name", func(c *Config) { c.Optim.G.Name = "sgd" }},
		{"optim.d.lr", func(c *Config) { c.Optim.D.LR = 0 }},
		{"optim.d.lr", func(c *Config) { c.Optim.D.LR = -1e-4 }},
		{"optim.g.betas", func(c *Config) { c.Optim.G.Betas = []float64{0.5} }},
		{"optim.g.betas", func(c *Config) { c.Optim.G.Betas = []float64{0.5, 1.0} }},
		{"optim.d.eps", func(c *Config) { c.Optim.D.Eps = 0 }},
		{"optim.d.alpha", func(c *Config) { c.Optim.D.Name = "rmsprop"; c.Optim.D.Alpha = 1.5 }},
		{"wgan.clip", func(c *Config) { c.WGAN.Clip = 0 }},
		{"data.labeled", func(c *Config) { c.Data.Labeled = 100 }}, // model dcgan
		{"data.labeled", func(c *Config) { c.Data.Labeled = -1 }},
		{"train.supervised_only", func(c *Config) { c.Train.SupervisedOnly = true }},
		{"sgan.g_loss", func(c *Config) { c.SGAN.GLoss = "minimax" }},
		{"output.sample_every", func(c *Config) { c.Output.SampleEvery = -1 }},
		{"output.checkpoint_every", func(c *Config) { c.Output.CheckpointEvery = -2 }},
		{"output.keep", func(c *Config) { c.Output.Keep = -1 }},
		{"train.augment", func(c *Config) { c.Train.Augment = []string{"translation", "flip"} }},
		{"train.augment", func(c *Config) { c.Train.Augment = []string{"color", "color"} }},
		// The gradient penalties: R1 needs a D without batch norm (model
		// dcgan's has it); neither allows minibatch_std.
		{"train.r1", func(c *Config) { c.Train.R1 = 10 }},
		{"train.r1", func(c *Config) { c.Model, c.Train.R1 = "gan", -1 }},
		{"train.r1", func(c *Config) { c.Model, c.Train.R1 = "gan", math.Inf(1) }},
		{"minibatch_std", func(c *Config) { c.Model, c.MinibatchStd = "wgan-gp", true }},
		{"train.r1", func(c *Config) { c.DNorm, c.Train.R1 = "batch", 10 }},
		// d_norm: a known value, on a model whose D it can build.
		{"d_norm", func(c *Config) { c.DNorm = "layer" }},
		{"d_norm", func(c *Config) { c.Model, c.DNorm = "wgan-gp", "batch" }},
		{"d_norm", func(c *Config) { c.Model, c.DNorm = "cgan", "none" }},
		{"d_norm", func(c *Config) { c.Model, c.DNorm = "gan", "none" }},
		{"wgan.gp_lambda", func(c *Config) { c.WGAN.GPLambda = -10 }},
		{"wgan.gp_lambda", func(c *Config) { c.WGAN.GPLambda = math.NaN() }},
	}
	Models = append(Models, "gan", "wgan-gp", "cgan")
	defer func() { Models = Models[:len(Models)-3] }()
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

func TestConvertIsStrict(t *testing.T) {
	var (
		intT    = reflect.TypeFor[int]()
		uintT   = reflect.TypeFor[uint64]()
		floatT  = reflect.TypeFor[float64]()
		stringT = reflect.TypeFor[string]()
		listT   = reflect.TypeFor[[]float64]()
		boolT   = reflect.TypeFor[bool]()
		namesT  = reflect.TypeFor[[]string]()
	)
	good := []struct {
		value any
		t     reflect.Type
		want  any
	}{
		{32, intT, 32},
		{32.0, intT, 32},
		{1, floatT, 1.0},
		{2e-4, floatT, 2e-4},
		{[]any{0.0, 0.9}, listT, []float64{0, 0.9}},
		{[]any{1, 0.9}, listT, []float64{1, 0.9}},
		{7, uintT, uint64(7)},
		{"dcgan", stringT, "dcgan"},
		{true, boolT, true},
		// train.augment: a list, or one comma-separated string.
		{[]any{"translation", " cutout"}, namesT, []string{"translation", "cutout"}},
		{"translation, cutout,color", namesT, []string{"translation", "cutout", "color"}},
		{"", namesT, []string(nil)},
		{[]any{}, namesT, []string(nil)},
		{nil, namesT, []string(nil)},
		{[]string(nil), namesT, []string(nil)},
	}
	for _, tc := range good {
		got, err := Convert(tc.value, tc.t)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Convert(%v, %v) = %v, %v; want %v", tc.value, tc.t, got, err, tc.want)
		}
	}
	bad := []struct {
		value any
		t     reflect.Type
		msg   string
	}{
		{"abc", intT, "want an integer"},
		{64.5, intT, "want an integer"},
		{true, intT, "want an integer"},
		{1 << 40, intT, "out of range"},
		{"fast", floatT, "want a number"},
		{math.NaN(), floatT, "finite"},
		{0.5, listT, "want a list"},
		{[]any{0.5, "x"}, listT, "item 2"},
		{-1, uintT, "non-negative"},
		{3, stringT, "want a string"},
		{"yes", boolT, "want true or false"},
		{1, boolT, "want true or false"},
		{map[string]any{"a": 1}, stringT, "a section"},
		{[]any{"color", 3}, namesT, "item 2"},
		{"color,,cutout", namesT, "item 2 is empty"},
		{true, namesT, "want a list of names"},
	}
	for _, tc := range bad {
		_, err := Convert(tc.value, tc.t)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Convert(%v, %v) = %v, want an error saying %q", tc.value, tc.t, err, tc.msg)
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
		if _, err := Convert(v, reflect.TypeOf(v)); err != nil {
			t.Errorf("default of %s does not convert to its own type: %v", k, err)
		}
	}
}

// R1 is accepted for the models whose D has no batch norm, dcgan's and
// wgan's among them with d_norm: none, and wgan-gp's penalty may be turned
// off.
func TestPenaltiesValid(t *testing.T) {
	Models = append(Models, "gan", "wgan-gp", "wgan", "cgan")
	defer func() { Models = Models[:len(Models)-4] }()
	for _, edit := range []func(*Config){
		func(c *Config) { c.DNorm, c.Train.R1 = "none", 10 },
		func(c *Config) { c.Model, c.DNorm, c.Train.R1 = "wgan", "none", 1 },
		func(c *Config) { c.Model, c.DNorm = "wgan-gp", "none" },
		func(c *Config) { c.Model, c.DNorm = "cgan", "batch" },
		func(c *Config) { c.Model, c.Train.R1 = "gan", 10 },
		func(c *Config) { c.Model, c.Train.R1, c.Loss = "wgan-gp", 1, "hinge" },
		func(c *Config) { c.Model, c.WGAN.GPLambda = "wgan-gp", 0 },
	} {
		c := Default()
		edit(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("%s, r1 %g, gp_lambda %g: %v", c.Model, c.Train.R1, c.WGAN.GPLambda, err)
		}
	}
}
