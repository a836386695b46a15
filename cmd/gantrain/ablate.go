package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/evaluate"
	"github.com/gantrain/gantrain/internal/fsutil"
	"github.com/gantrain/gantrain/internal/mnist"
	"github.com/gantrain/gantrain/internal/oneline"
	"github.com/gantrain/gantrain/internal/train"
	"github.com/spf13/cobra"
)

type ablateOptions struct {
	*streams
	ConfigPath string
	Sets       []string
	Varies     []string // --vary key=a,b,…
	Variants   []string // --variant "key=v key=v"
	Merge      []string // --merge DIR|ablation.json
	Seeds      int
	Epochs     int
	OutDir     string
	N          int    // samples per evaluation
	EvalSeed   uint64 // their latent seed
	NoPRDC     bool
}

func newAblateCmd(s *streams) *cobra.Command {
	cmd, _ := ablateCmd(s)
	return cmd
}

// ablateCmd makes the command and returns the options its flags fill.
func ablateCmd(s *streams) (*cobra.Command, *ablateOptions) {
	o := &ablateOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "ablate --config FILE (--vary key=a,b,... [--vary ...] | --variant 'key=v ...' [--variant ...]) [--seeds 3] [--epochs E] [--out DIR]",
		Short: "Train and evaluate every combination of settings over several seeds",
		Long: `Train every variant of a configuration — the cross product of the --vary
lists — once per seed (seed, seed+1, …), all for the same number of
generator steps, evaluate each final model as gantrain eval --run does,
and write DIR/ablation.md (one row per variant: mean ± sample standard
deviation over the seeds of every metric, and seconds per training step)
and DIR/ablation.json (every run's numbers, and per variant the mean,
standard deviation, minimum and maximum). The runs are DIR/runs/*.

The number of steps is the base configuration's (the file with --set):
train.steps, or --epochs (else train.epochs) epochs of its data at its
batch size and n_critic. Every variant trains that many G steps, whatever
it varies. --vary takes a key and its values separated by commas; a list
value goes in brackets: --vary train.augment=[],[translation,cutout,color]
(an empty value, as in --vary loss=,hinge, is the key's empty setting).
seed, train.steps, train.epochs and output.dir cannot vary.

--variant lists variants one by one instead: each is its settings,
key=value separated by spaces (--variant 'optim.d.lr=4e-4 optim.g.lr=1e-4'),
and --variant '' is the configuration as it is (the row "baseline"); so
each remedy alone, and then a combination, is one ablation.

--merge DIR (or DIR/ablation.json), repeated, trains nothing: it puts the
runs of finished or interrupted ablations with the same number of steps
and the same evaluation into one table in --out, a row per variant (runs
of the same variant in several ablations pooled, each seed once), so
ablations run side by side (one per core) or on other days make one table.

Everything (the configuration of every variant, the data, the evaluation's
classifier, the output directory) is checked before the first run trains.
The files are rewritten after every run, so an interrupted ablation keeps
the finished runs' numbers. Quick evaluations during training (eval.every)
are left out.`,
		Example: `  gantrain ablate --config configs/dcgan.yaml --vary loss=bce,hinge,lsgan --seeds 3 --epochs 5 --out runs/ablate-loss
  gantrain ablate --config configs/dcgan.yaml --vary spectral_norm=false,true --vary train.ema=0,0.999 --out runs/ablate-sn-ema
  gantrain ablate --config configs/dcgan.yaml --vary train.augment=[],[translation,cutout,color] --set train.steps=500 --n 2000
  gantrain ablate --config configs/dcgan.yaml --variant '' --variant train.ema=0.999 --variant 'spectral_norm=true loss=hinge' --out runs/q
  gantrain ablate --merge runs/q1 --merge runs/q2 --out runs/q-all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(o.Merge) > 0 {
				return runAblateMerge(o)
			}
			return runAblate(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "", "YAML configuration file (default: built-in DCGAN defaults)")
	f.StringArrayVar(&o.Sets, "set", nil, "override a configuration key in every variant: --set train.batch_size=32 (repeatable)")
	f.StringArrayVar(&o.Varies, "vary", nil, "a key and the values to try: --vary loss=bce,hinge (repeatable: the cross product)")
	f.StringArrayVar(&o.Variants, "variant", nil, "one variant, its settings separated by spaces: --variant 'loss=hinge spectral_norm=true' ('': the configuration; repeatable)")
	f.StringArrayVar(&o.Merge, "merge", nil, "an ablation's directory or ablation.json: put the runs of several into one table in --out, training nothing (repeatable)")
	f.IntVar(&o.Seeds, "seeds", 3, "runs per variant, with seeds seed, seed+1, …")
	f.IntVar(&o.Epochs, "epochs", 0, "epochs of the base configuration's data per run (0: its train.steps or train.epochs)")
	f.StringVar(&o.OutDir, "out", "", "directory of the results and runs (default runs/ablate-<time>)")
	f.IntVarP(&o.N, "n", "n", 10000, "samples per evaluation")
	f.Uint64Var(&o.EvalSeed, "eval-seed", 1, "seed of the evaluation samples' latent vectors")
	f.BoolVar(&o.NoPRDC, "no-prdc", false, "skip precision/recall/density/coverage")
	return cmd, o
}

// ablateFixed are the keys ablate sets itself, with why.
var ablateFixed = map[string]string{
	"seed":         "the seeds are the config's seed, seed+1, … (--seeds)",
	"train.steps":  "every variant trains the same number of steps (--epochs or train.steps in --set)",
	"train.epochs": "every variant trains the same number of steps (--epochs or train.epochs in --set)",
	"output.dir":   "the runs go into --out's runs/",
}

// dimension is one --vary: a key and its values.
type dimension struct {
	key    string
	values []string
}

// parseVary reads key=a,b,… Commas inside brackets belong to a value
// (a list: [translation,cutout]); values may be empty but not repeated.
func parseVary(s string) (dimension, error) {
	shown := oneline.Quote(s)
	k, raw, ok := strings.Cut(s, "=")
	k = strings.ToLower(strings.TrimSpace(k))
	if !ok || k == "" {
		return dimension{}, usagef("--vary %s: want key=a,b,…, e.g. --vary loss=bce,hinge", shown)
	}
	var values []string
	depth, start := 0, 0
	for i, c := range raw {
		switch c {
		case '[':
			depth++
		case ']':
			if depth--; depth < 0 {
				return dimension{}, usagef("--vary %s: a ] without its [", shown)
			}
		case ',':
			if depth == 0 {
				values = append(values, strings.TrimSpace(raw[start:i]))
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return dimension{}, usagef("--vary %s: a [ without its ]", shown)
	}
	values = append(values, strings.TrimSpace(raw[start:]))
	for i, v := range values {
		if slices.Contains(values[:i], v) {
			return dimension{}, usagef("--vary %s: value %q is listed twice", shown, v)
		}
	}
	return dimension{key: k, values: values}, nil
}

// dimensions reads every --vary and refuses keys that cannot vary, are
// varied twice or are also --set.
func (o *ablateOptions) dimensions() ([]dimension, error) {
	if len(o.Varies) == 0 && len(o.Variants) == 0 {
		return nil, usagef("give at least one --vary key=a,b,… or --variant 'key=value …'")
	}
	if len(o.Varies) > 0 && len(o.Variants) > 0 {
		return nil, usagef("give --vary (a cross product) or --variant (variants one by one), not both")
	}
	var dims []dimension
	for _, s := range o.Varies {
		d, err := parseVary(s)
		if err != nil {
			return nil, err
		}
		if err := o.checkKey("--vary", s, d.key); err != nil {
			return nil, err
		}
		for _, e := range dims {
			if e.key == d.key {
				return nil, usagef("--vary %s: %s is varied twice; give all its values in one --vary", oneline.Quote(s), d.key)
			}
		}
		dims = append(dims, d)
	}
	return dims, nil
}

// checkKey refuses a key of --vary or --variant that is unknown, cannot
// vary or is also --set; flag and s name it in the message.
func (o *ablateOptions) checkKey(flag, s, k string) error {
	if keys := config.Keys(); keys[k] == nil {
		return usagef("%s %s: unknown key %q%s", flag, oneline.Quote(s), k, suggest(k, keys))
	}
	if why, ok := ablateFixed[k]; ok {
		return usagef("%s %s: %s cannot vary: %s", flag, oneline.Quote(s), k, why)
	}
	for _, set := range o.Sets {
		if sk, _, _ := strings.Cut(set, "="); strings.ToLower(strings.TrimSpace(sk)) == k {
			return usagef("%s %s: %s is also set by --set %s; leave one out", flag, oneline.Quote(s), k, oneline.Quote(set))
		}
	}
	return nil
}

// parseVariant reads one --variant: key=value settings separated by
// spaces (spaces inside brackets belong to a value); an empty one is the
// configuration as it is.
func (o *ablateOptions) parseVariant(s string) ([]string, error) {
	var settings []string
	depth, start := 0, -1
	flush := func(end int) {
		if start >= 0 {
			settings = append(settings, s[start:end])
			start = -1
		}
	}
	for i, c := range s {
		switch {
		case c == '[':
			depth++
		case c == ']':
			if depth--; depth < 0 {
				return nil, usagef("--variant %s: a ] without its [", oneline.Quote(s))
			}
		case (c == ' ' || c == '\t') && depth == 0:
			flush(i)
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if depth != 0 {
		return nil, usagef("--variant %s: a [ without its ]", oneline.Quote(s))
	}
	flush(len(s))
	keys := map[string]bool{}
	for _, kv := range settings {
		k, _, ok := strings.Cut(kv, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return nil, usagef("--variant %s: want key=value settings separated by spaces, e.g. --variant 'loss=hinge spectral_norm=true'", oneline.Quote(s))
		}
		if err := o.checkKey("--variant", s, k); err != nil {
			return nil, err
		}
		if keys[k] {
			return nil, usagef("--variant %s: %s is set twice", oneline.Quote(s), k)
		}
		keys[k] = true
	}
	return settings, nil
}

// variantSettings lists the variants: the cross product of --vary, or
// the --variant list.
func (o *ablateOptions) variantSettings() ([][]string, error) {
	dims, err := o.dimensions()
	if err != nil {
		return nil, err
	}
	if len(o.Variants) == 0 {
		return crossProduct(dims), nil
	}
	var out [][]string
	seen := map[string]string{}
	for _, s := range o.Variants {
		settings, err := o.parseVariant(s)
		if err != nil {
			return nil, err
		}
		key := strings.Join(slices.Sorted(slices.Values(settings)), " ")
		if prev, ok := seen[key]; ok {
			return nil, usagef("--variant %s: the same variant as --variant %s", oneline.Quote(s), oneline.Quote(prev))
		}
		seen[key] = s
		out = append(out, settings)
	}
	return out, nil
}

// variantName is a row's name: its settings, or baseline for none.
func variantName(settings []string) string {
	if len(settings) == 0 {
		return "baseline"
	}
	return strings.Join(settings, ", ")
}

// crossProduct lists the variants, the first --vary slowest: each is one
// key=value per dimension.
func crossProduct(dims []dimension) [][]string {
	out := [][]string{nil}
	for _, d := range dims {
		var next [][]string
		for _, prefix := range out {
			for _, v := range d.values {
				next = append(next, append(slices.Clone(prefix), d.key+"="+v))
			}
		}
		out = next
	}
	return out
}

// ablationFile is ablation.json.
type ablationFile struct {
	Config  string   `json:"config"`
	Sets    []string `json:"sets"`
	Vary    []string `json:"vary"`
	Variant []string `json:"variant,omitempty"` // the --variant list
	// Merged lists the ablations --merge put together.
	Merged   []string `json:"merged,omitempty"`
	Seeds    []uint64 `json:"seeds"`
	Steps    int      `json:"steps"`
	EvalN    int      `json:"eval_n"`
	EvalSeed uint64   `json:"eval_seed"`
	PRDC     bool     `json:"prdc"`
	Spread   string   `json:"spread"`
	// Complete is false while runs are missing (an interrupted ablation).
	Complete bool       `json:"complete"`
	Variants []*variant `json:"variants"`
}

// variant is one row: a combination of the --vary values, trained once per seed.
type variant struct {
	Name     string             `json:"name"`
	Settings []string           `json:"settings"` // key=value, one per --vary
	Runs     []*ablationRun     `json:"runs"`
	Summary  map[string]*spread `json:"summary"`

	cfgs []config.Config // one per seed
	data *data.Dataset
}

type ablationRun struct {
	Seed           uint64           `json:"seed"`
	Dir            string           `json:"dir"`
	Steps          int              `json:"steps"`
	SecondsPerStep float64          `json:"seconds_per_step"`
	ElapsedS       float64          `json:"elapsed_s"`
	Eval           *evaluate.Report `json:"eval"`
}

// spread summarises one number over a variant's runs.
type spread struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"` // sample standard deviation (n − 1); 0 for one run
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

const spreadNote = "sd is the sample standard deviation (n − 1) over the seeds; min and max beside it"

// ablateMetrics are the columns of the table, in order: the metrics of
// gantrain eval's report, where the data has them.
var ablateMetrics = []struct {
	name string
	get  func(r *evaluate.Report) *float64
}{
	{"fcd", func(r *evaluate.Report) *float64 { return &r.FCD }},
	{"kl_uniform", func(r *evaluate.Report) *float64 { return r.KLUniform }},
	{"modes", func(r *evaluate.Report) *float64 {
		if r.Modes == nil {
			return nil
		}
		m := float64(*r.Modes)
		return &m
	}},
	{"classifier_score", func(r *evaluate.Report) *float64 { return r.ClassifierScore }},
	{"precision", func(r *evaluate.Report) *float64 { return r.Precision }},
	{"recall", func(r *evaluate.Report) *float64 { return r.Recall }},
	{"density", func(r *evaluate.Report) *float64 { return r.Density }},
	{"coverage", func(r *evaluate.Report) *float64 { return r.Coverage }},
	{"cond_acc", func(r *evaluate.Report) *float64 { return r.CondAcc }},
}

// ablatePlan is a checked ablation: every run's configuration and data,
// nothing written yet.
type ablatePlan struct {
	out      string
	file     ablationFile
	mnistRef *mnist.Dataset // the test digits, when a variant is measured on MNIST
}

func runAblate(ctx context.Context, o *ablateOptions) error {
	p, err := prepareAblate(o)
	if err != nil {
		return err
	}
	return p.run(ctx, o)
}

// prepareAblate checks the flags, every variant's configuration, the data
// and model of each, the evaluation's classifier and the output
// directory. It writes nothing.
func prepareAblate(o *ablateOptions) (*ablatePlan, error) {
	if o.Seeds < 1 || o.Seeds > 1000 {
		return nil, usagef("--seeds must be between 1 and 1000, got %d", o.Seeds)
	}
	if o.Epochs < 0 {
		return nil, usagef("--epochs must be ≥ 0 (0: the configuration's), got %d", o.Epochs)
	}
	if o.N < 10 || o.N > 100000 {
		return nil, usagef("--n must be between 10 and 100000, got %d", o.N)
	}
	variants, err := o.variantSettings()
	if err != nil {
		return nil, err
	}
	sets := slices.Clone(o.Sets)
	for _, s := range o.Sets {
		k, _, _ := strings.Cut(s, "=")
		switch k = strings.ToLower(strings.TrimSpace(k)); {
		case k == "output.dir":
			return nil, usagef("--set %s: %s", oneline.Quote(s), ablateFixed[k])
		case o.Epochs > 0 && (k == "train.steps" || k == "train.epochs"):
			return nil, usagef("--set %s and --epochs %d both say how long to train; leave one out", oneline.Quote(s), o.Epochs)
		}
	}
	if o.Epochs > 0 {
		sets = append(sets, "train.epochs="+strconv.Itoa(o.Epochs), "train.steps=0")
	}

	// The base configuration fixes the steps of every run.
	base, err := loadConfig(configSources{File: o.ConfigPath, Sets: sets})
	if err != nil {
		return nil, err
	}
	datasets := map[string]*data.Dataset{}
	load := func(cfg *config.Config) (*data.Dataset, error) {
		key := fmt.Sprintf("%#v", cfg.Data)
		ds, ok := datasets[key]
		if !ok {
			var err error
			if ds, err = loadData(cfg, o.streams); err != nil {
				return nil, err
			}
			datasets[key] = ds
		}
		cfg.Data.Size, cfg.Data.Channels = ds.H, ds.C
		return ds, nil
	}
	ds, err := load(&base)
	if err != nil {
		return nil, err
	}
	if ds.N < base.Train.BatchSize {
		return nil, usagef("data: %s has %d images, fewer than a batch (%d)", ds.Source, ds.N, base.Train.BatchSize)
	}
	steps := train.TotalSteps(base, ds.N/base.Train.BatchSize)

	out, err := ablateOutDir(o.OutDir)
	if err != nil {
		return nil, err
	}

	p := &ablatePlan{out: out, file: ablationFile{
		Config: o.ConfigPath, Sets: o.Sets, Vary: o.Varies, Variant: o.Variants, Steps: steps,
		EvalN: o.N, EvalSeed: o.EvalSeed, PRDC: !o.NoPRDC, Spread: spreadNote,
	}}
	if p.file.Sets == nil {
		p.file.Sets = []string{}
	}
	for i := range o.Seeds {
		p.file.Seeds = append(p.file.Seeds, base.Seed+uint64(i))
	}
	// Every variant's configuration first, then data, models and the
	// evaluation: a mistyped value is named before any data is read.
	var cfgs []config.Config
	if p.file.Vary == nil {
		p.file.Vary = []string{}
	}
	for _, settings := range variants {
		v := &variant{Name: variantName(settings), Settings: append([]string{}, settings...), Runs: []*ablationRun{}}
		cfg, err := loadConfig(configSources{File: o.ConfigPath, Sets: append(slices.Clone(sets), "train.steps="+strconv.Itoa(steps)), Vary: settings})
		if err != nil {
			if len(settings) == 1 && len(o.Varies) > 0 && strings.HasPrefix(err.Error(), "--vary") {
				return nil, err // it names the variant
			}
			return nil, usagef("variant %s: %v", v.Name, err)
		}
		cfgs = append(cfgs, cfg)
		p.file.Variants = append(p.file.Variants, v)
	}
	checkedData := map[*data.Dataset]bool{}
	for vi, v := range p.file.Variants {
		cfg := cfgs[vi]
		if v.data, err = load(&cfg); err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.Name, err)
		}
		if err := checkTrainable(cfg, v.data); err != nil {
			return nil, usagef("variant %s: %v", v.Name, err)
		}
		dataDir := v.data.Source
		if fi, err := os.Stat(dataDir); err == nil && !fi.IsDir() {
			dataDir = filepath.Dir(dataDir)
		}
		if data.Inside(out, dataDir) {
			return nil, usagef("--out %s is inside the data directory %s; data folders are never written", out, dataDir)
		}
		if !checkedData[v.data] {
			if err := p.checkEvaluation(o, v.Settings, cfg, v.data); err != nil {
				return nil, usagef("variant %s: %v", v.Name, err)
			}
			checkedData[v.data] = true
		}
		for _, seed := range p.file.Seeds {
			c := cfg
			c.Seed = seed
			c.Output.Dir = filepath.Join(out, "runs", fmt.Sprintf("%02d-%s-seed%d", vi+1, slug(v.Name), seed))
			v.cfgs = append(v.cfgs, c)
		}
	}
	return p, nil
}

// checkEvaluation checks that the final models of runs on ds can be
// evaluated as gantrain eval --run does: MNIST against its test digits
// with the shipped classifier, other data with a stored classifier (the
// error names the command that trains it, for the variant's settings).
func (p *ablatePlan) checkEvaluation(o *ablateOptions, settings []string, cfg config.Config, ds *data.Dataset) error {
	if cfg.Data.Name != "mnist" {
		_, _, err := classifier.Find(ds, false, classifier.StoreDir(cfg.Data.Cache))
		if err != nil {
			cmd := "gantrain classifier train"
			if o.ConfigPath != "" {
				cmd += " --config " + o.ConfigPath
			}
			for _, s := range append(slices.Clone(o.Sets), settings...) {
				if strings.HasPrefix(strings.TrimSpace(strings.ToLower(s)), "data.") {
					cmd += " --set " + oneline.Quote(s)
				}
			}
			return fmt.Errorf("evaluating runs on %s: %w; train one with: %s", ds.Source, err, cmd)
		}
		return nil
	}
	if !usesShippedClassifier(cfg.Data, ds) {
		return fmt.Errorf("evaluating runs on %s: the MNIST classifier measures 28×28 gray digits; the data is %d×%d×%d", ds.Source, ds.C, ds.H, ds.W)
	}
	if p.mnistRef == nil {
		ref, err := loadMNIST("test")
		if err != nil {
			return fmt.Errorf("evaluating runs: %w", err)
		}
		p.mnistRef = ref
	}
	return nil
}

// slug makes a variant's name part of a directory name.
func slug(name string) string {
	var b strings.Builder
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '=', c == '-':
			b.WriteRune(c)
		case c == ' ':
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// run trains and evaluates every run, rewriting the results after each.
func (p *ablatePlan) run(ctx context.Context, o *ablateOptions) error {
	if err := os.MkdirAll(filepath.Join(p.out, "runs"), 0o755); err != nil {
		return err
	}
	var shared *evaluate.Evaluator
	if p.mnistRef != nil {
		var err error
		if shared, err = evaluate.New(p.mnistRef, p.mnistRef.N); err != nil {
			return err
		}
		defer shared.Close()
	}
	total := len(p.file.Variants) * len(p.file.Seeds)
	k := 0
	for _, v := range p.file.Variants {
		for _, cfg := range v.cfgs {
			k++
			fmt.Fprintf(o.ErrOut, "gantrain: ablate: run %d of %d: %s, seed %d, %d steps\n", k, total, v.Name, cfg.Seed, cfg.Train.Steps)
			if err := os.MkdirAll(cfg.Output.Dir, 0o755); err != nil {
				return err
			}
			res, err := train.Run(ctx, train.Options{
				Config: cfg, RunDir: cfg.Output.Dir, Data: v.data,
				ErrOut: o.ErrOut, Bar: o.IsTerminal, Version: version(),
			})
			if err != nil {
				return fmt.Errorf("ablate: %s, seed %d: %w", v.Name, cfg.Seed, err)
			}
			if res.Interrupted {
				if werr := p.write(); werr != nil {
					return werr
				}
				fmt.Fprintf(o.ErrOut, "gantrain: ablate: interrupted; %s holds the %d finished runs\n", filepath.Join(p.out, "ablation.md"), k-1)
				return context.Cause(ctx)
			}
			eo := &evalOptions{streams: &streams{Out: io.Discard, ErrOut: o.ErrOut}, Run: cfg.Output.Dir, N: o.N, Seed: o.EvalSeed, NoPRDC: o.NoPRDC}
			ep, err := prepareEval(eo)
			if err != nil {
				return fmt.Errorf("ablate: evaluating %s: %w", cfg.Output.Dir, err)
			}
			rep, err := ep.report(eo, shared)
			if err != nil {
				return fmt.Errorf("ablate: evaluating %s: %w", cfg.Output.Dir, err)
			}
			v.Runs = append(v.Runs, &ablationRun{Seed: cfg.Seed, Dir: cfg.Output.Dir, Steps: res.Step,
				SecondsPerStep: res.StepSeconds, ElapsedS: math.Round(res.Elapsed.Seconds()*1000) / 1000, Eval: rep})
			v.summarize()
			p.file.Complete = k == total
			if err := p.write(); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(o.ErrOut, "gantrain: ablate: %d runs; results in %s and %s\n", total, filepath.Join(p.out, "ablation.md"), filepath.Join(p.out, "ablation.json"))
	fmt.Fprintln(o.Out, p.out)
	return nil
}

// summarize computes the spread of every metric and of the step time over
// the variant's finished runs.
func (v *variant) summarize() {
	values := map[string][]float64{}
	for _, r := range v.Runs {
		for _, m := range ablateMetrics {
			if x := m.get(r.Eval); x != nil {
				values[m.name] = append(values[m.name], *x)
			}
		}
		values["seconds_per_step"] = append(values["seconds_per_step"], r.SecondsPerStep)
	}
	v.Summary = map[string]*spread{}
	for name, xs := range values {
		s := &spread{N: len(xs), Min: slices.Min(xs), Max: slices.Max(xs)}
		for _, x := range xs {
			s.Mean += x / float64(len(xs))
		}
		if len(xs) > 1 {
			var ss float64
			for _, x := range xs {
				ss += (x - s.Mean) * (x - s.Mean)
			}
			s.SD = math.Sqrt(ss / float64(len(xs)-1))
		}
		v.Summary[name] = s
	}
}

// write rewrites ablation.json and ablation.md.
func (p *ablatePlan) write() error {
	j, err := json.MarshalIndent(p.file, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteBytes(filepath.Join(p.out, "ablation.json"), append(j, '\n'), 0o644); err != nil {
		return err
	}
	return fsutil.WriteBytes(filepath.Join(p.out, "ablation.md"), []byte(p.markdown()), 0o644)
}

// markdown is ablation.md: what was run, then one row per variant.
func (p *ablatePlan) markdown() string {
	f := p.file
	var b strings.Builder
	cfg := f.Config
	if cfg == "" {
		cfg = "the built-in defaults"
	}
	fmt.Fprintf(&b, "# Ablation of %s\n\n", cfg)
	if len(f.Sets) > 0 {
		fmt.Fprintf(&b, "Every variant: %s.  \n", "`--set "+strings.Join(f.Sets, "`, `--set ")+"`")
	}
	if len(f.Merged) > 0 {
		fmt.Fprintf(&b, "The runs of the ablations %s, put together by `gantrain ablate --merge`.  \n", strings.Join(f.Merged, ", "))
	}
	seeds := make([]string, len(f.Seeds))
	for i, s := range f.Seeds {
		seeds[i] = strconv.FormatUint(s, 10)
	}
	fmt.Fprintf(&b, "Each variant trained %d steps with seeds %s, then evaluated as `gantrain eval --run` does: %d samples, latent seed %d.  \n", f.Steps, strings.Join(seeds, ", "), f.EvalN, f.EvalSeed)
	fmt.Fprintf(&b, "Cells: mean ± sample standard deviation (n − 1) over the seeds (minimum and maximum in ablation.json); s/step is the time of one training step (D and G updates), without logging, samples or checkpoints.")
	if !f.Complete {
		fmt.Fprintf(&b, "  \n**Incomplete**: runs are missing (the ablation was interrupted or is running).")
	}
	b.WriteString("\n\n")
	var cols []string
	for _, m := range ablateMetrics {
		for _, v := range f.Variants {
			if v.Summary[m.name] != nil {
				cols = append(cols, m.name)
				break
			}
		}
	}
	b.WriteString("| variant |")
	for _, c := range cols {
		b.WriteString(" " + c + " |")
	}
	b.WriteString(" s/step |\n|---|")
	for range cols {
		b.WriteString("---:|")
	}
	b.WriteString("---:|\n")
	for _, v := range f.Variants {
		name := v.Name
		if len(v.Runs) < len(f.Seeds) {
			name += fmt.Sprintf(" (%d of %d runs)", len(v.Runs), len(f.Seeds))
		}
		fmt.Fprintf(&b, "| %s |", strings.ReplaceAll(name, "|", `\|`))
		for _, c := range append(cols, "seconds_per_step") {
			fmt.Fprintf(&b, " %s |", v.Summary[c].cell())
		}
		b.WriteString("\n")
	}
	return b.String()
}

// cell shows mean ± sd: the mean to 4 significant digits, the sd to 2.
func (s *spread) cell() string {
	if s == nil {
		return "—"
	}
	m := strconv.FormatFloat(s.Mean, 'g', 4, 64)
	if s.N < 2 {
		return m
	}
	return m + " ± " + strconv.FormatFloat(s.SD, 'g', 2, 64)
}

// runAblateMerge is --merge: the runs of several ablations in one table.
func runAblateMerge(o *ablateOptions) error {
	switch {
	case len(o.Varies) > 0 || len(o.Variants) > 0 || o.ConfigPath != "" || len(o.Sets) > 0 || o.Epochs > 0:
		return usagef("--merge puts finished ablations together and trains nothing: leave out --vary, --variant, --config, --set and --epochs")
	}
	p, err := prepareMerge(o.Merge, o.OutDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.out, 0o755); err != nil {
		return err
	}
	if err := p.write(); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "gantrain: ablate: %d variants from %d ablations; results in %s and %s\n", len(p.file.Variants), len(o.Merge), filepath.Join(p.out, "ablation.md"), filepath.Join(p.out, "ablation.json"))
	fmt.Fprintln(o.Out, p.out)
	return nil
}

// ablateOutDir checks --out (default runs/ablate-<time>) and refuses one
// that holds an ablation already.
func ablateOutDir(out string) (string, error) {
	if out == "" {
		out = filepath.Join("runs", "ablate-"+time.Now().Format("20060102-150405"))
	}
	if err := checkOutDir("--out", out); err != nil {
		return "", err
	}
	for _, name := range []string{"ablation.md", "ablation.json", "runs"} {
		if _, err := os.Lstat(filepath.Join(out, name)); err == nil {
			return "", usagef("--out %s already holds an ablation (%s); choose another --out", out, name)
		}
	}
	return out, nil
}

// prepareMerge reads the ablations and pools their runs by variant; it
// writes nothing. Rows are named by their settings, and by their
// configuration and --set too where those differ between the ablations.
func prepareMerge(paths []string, out string) (*ablatePlan, error) {
	out, err := ablateOutDir(out)
	if err != nil {
		return nil, err
	}
	var files []*ablationFile
	var names []string
	for _, path := range paths {
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			path = filepath.Join(path, "ablation.json")
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--merge %s: %w", path, err)
		}
		var f ablationFile
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("%s: not an ablation.json: %v", path, err)
		}
		if f.Steps < 1 || f.EvalN < 1 || f.Variants == nil {
			return nil, fmt.Errorf("%s: not an ablation.json (no steps, evaluation or variants)", path)
		}
		if len(files) > 0 {
			a := files[0]
			if f.Steps != a.Steps || f.EvalN != a.EvalN || f.EvalSeed != a.EvalSeed || f.PRDC != a.PRDC {
				return nil, usagef("%s: %d steps, %d samples with latent seed %d (prdc %v), but %s: %d steps, %d samples, seed %d (prdc %v); only runs of equal length measured alike make one table",
					path, f.Steps, f.EvalN, f.EvalSeed, f.PRDC, names[0], a.Steps, a.EvalN, a.EvalSeed, a.PRDC)
			}
		}
		if slices.Contains(names, path) {
			return nil, usagef("--merge %s is given twice", path)
		}
		files = append(files, &f)
		names = append(names, path)
	}
	// Where the ablations' configurations or --set differ, the rows say
	// which they come from.
	// --set seed= (which seeds ran) and train.threads= (results do not
	// depend on it) do not tell variants apart.
	for _, f := range files {
		f.Sets = slices.DeleteFunc(slices.Clone(f.Sets), func(s string) bool {
			k, _, _ := strings.Cut(s, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			return k == "seed" || k == "train.threads"
		})
	}
	label := func(f *ablationFile) string { return f.Config + "\x00" + strings.Join(f.Sets, "\x00") }
	same := true
	for _, f := range files[1:] {
		same = same && label(f) == label(files[0])
	}
	first := files[0]
	p := &ablatePlan{out: out, file: ablationFile{
		Steps: first.Steps, EvalN: first.EvalN, EvalSeed: first.EvalSeed, PRDC: first.PRDC, Spread: spreadNote,
		Sets: []string{}, Vary: []string{}, Merged: names,
	}}
	var configs []string
	for _, f := range files {
		if !slices.Contains(configs, f.Config) {
			configs = append(configs, f.Config)
		}
	}
	if same {
		p.file.Config, p.file.Sets = first.Config, first.Sets
	} else {
		p.file.Config = strings.Join(configs, ", ")
	}
	rows := map[string]*variant{}
	seeds := map[uint64]bool{}
	from := map[string]string{} // row and seed → the ablation holding that run
	for fi, f := range files {
		for _, v := range f.Variants {
			name := v.Name
			if !same {
				prefix := f.Config
				if prefix == "" {
					prefix = "defaults"
				}
				if len(f.Sets) > 0 {
					prefix += " --set " + strings.Join(f.Sets, " --set ")
				}
				name = prefix + ": " + name
			}
			row := rows[name]
			if row == nil {
				row = &variant{Name: name, Settings: v.Settings, Runs: []*ablationRun{}}
				rows[name] = row
				p.file.Variants = append(p.file.Variants, row)
			}
			for _, r := range v.Runs {
				key := fmt.Sprintf("%s\x00%d", name, r.Seed)
				if prev, ok := from[key]; ok {
					return nil, usagef("%s and %s both hold variant %s with seed %d; merge one of them", prev, names[fi], name, r.Seed)
				}
				if r.Eval == nil {
					return nil, fmt.Errorf("%s: variant %s, seed %d has no evaluation", names[fi], name, r.Seed)
				}
				from[key] = names[fi]
				row.Runs = append(row.Runs, r)
				seeds[r.Seed] = true
			}
		}
	}
	p.file.Seeds = slices.Sorted(maps.Keys(seeds))
	p.file.Complete = true
	for _, v := range p.file.Variants {
		slices.SortFunc(v.Runs, func(a, b *ablationRun) int { return cmp.Compare(a.Seed, b.Seed) })
		v.summarize()
		p.file.Complete = p.file.Complete && len(v.Runs) == len(p.file.Seeds)
	}
	return p, nil
}
