package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/evaluate"
	"github.com/gantrain/gantrain/internal/mnist"
)

// argv → options, and the --vary lists → variants.
func TestAblateFlags(t *testing.T) {
	cmd, o := ablateCmd(&streams{Out: io.Discard, ErrOut: io.Discard})
	err := cmd.ParseFlags([]string{"--config", "c.yaml", "--set", "width=8", "--vary", "loss=bce,hinge",
		"--vary", "train.augment=[],[translation,cutout],color", "--seeds", "2", "--epochs", "3", "--out", "d", "--n", "500", "--no-prdc"})
	if err != nil {
		t.Fatal(err)
	}
	if o.ConfigPath != "c.yaml" || !reflect.DeepEqual(o.Sets, []string{"width=8"}) || o.Seeds != 2 || o.Epochs != 3 ||
		o.OutDir != "d" || o.N != 500 || !o.NoPRDC || o.EvalSeed != 1 || len(o.Varies) != 2 {
		t.Fatalf("options %+v", o)
	}
	_, d := ablateCmd(&streams{})
	if d.Seeds != 3 || d.Epochs != 0 || d.N != 10000 || d.OutDir != "" {
		t.Errorf("defaults: %+v", d)
	}
	dims, err := o.dimensions()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"loss=bce", "train.augment=[]"}, {"loss=bce", "train.augment=[translation,cutout]"}, {"loss=bce", "train.augment=color"},
		{"loss=hinge", "train.augment=[]"}, {"loss=hinge", "train.augment=[translation,cutout]"}, {"loss=hinge", "train.augment=color"},
	}
	if got := crossProduct(dims); !reflect.DeepEqual(got, want) {
		t.Errorf("variants %q, want %q", got, want)
	}

	for _, tc := range []struct {
		vary   string
		key    string
		values []string
	}{
		{"loss=bce", "loss", []string{"bce"}},
		{" Loss = ,hinge", "loss", []string{"", "hinge"}},
		{"optim.d.betas=[0.5, 0.999],[0, 0.9]", "optim.d.betas", []string{"[0.5, 0.999]", "[0, 0.9]"}},
		{"train.augment=[[a],b],c", "train.augment", []string{"[[a],b]", "c"}},
	} {
		d, err := parseVary(tc.vary)
		if err != nil || d.key != tc.key || !reflect.DeepEqual(d.values, tc.values) {
			t.Errorf("parseVary(%q) = %q %q, %v; want %q %q", tc.vary, d.key, d.values, err, tc.key, tc.values)
		}
	}
	for vary, msg := range map[string]string{
		"loss":               "want key=a,b",
		"=bce":               "want key=a,b",
		"loss=bce,hinge,bce": `"bce" is listed twice`,
		"train.augment=[a,b": "a [ without its ]",
		"train.augment=a],b": "a ] without its [",
	} {
		if _, err := parseVary(vary); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("parseVary(%q): %v, want an error saying %q", vary, err, msg)
		}
	}
	for _, tc := range []struct {
		varies, sets []string
		msg          string
	}{
		{nil, nil, "at least one --vary"},
		{[]string{"seed=1,2"}, nil, "seed cannot vary"},
		{[]string{"train.steps=10,20"}, nil, "train.steps cannot vary"},
		{[]string{"output.dir=a,b"}, nil, "output.dir cannot vary"},
		{[]string{"loss=bce", "loss=hinge"}, nil, "loss is varied twice"},
		{[]string{"loss=bce,hinge"}, []string{"LOSS=lsgan"}, "also set by --set"},
	} {
		o := &ablateOptions{Varies: tc.varies, Sets: tc.sets}
		if _, err := o.dimensions(); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("--vary %q --set %q: %v, want an error saying %q", tc.varies, tc.sets, err, tc.msg)
		}
	}
}

// --variant lists the variants one by one: settings separated by spaces
// (inside brackets a space belongs to the value), ” the configuration.
func TestAblateVariants(t *testing.T) {
	cmd, o := ablateCmd(&streams{Out: io.Discard, ErrOut: io.Discard})
	if err := cmd.ParseFlags([]string{"--variant", "", "--variant", "train.ema=0.999", "--variant", " optim.d.lr=4e-4  optim.g.lr=1e-4 ",
		"--variant", "train.augment=[translation, cutout]\tloss=hinge", "--merge", "a", "--merge", "b/ablation.json"}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.Merge, []string{"a", "b/ablation.json"}) {
		t.Errorf("--merge %q", o.Merge)
	}
	o.Merge = nil
	got, err := o.variantSettings()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{nil, {"train.ema=0.999"}, {"optim.d.lr=4e-4", "optim.g.lr=1e-4"}, {"train.augment=[translation, cutout]", "loss=hinge"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("variants %q, want %q", got, want)
	}
	if variantName(got[0]) != "baseline" || variantName(got[2]) != "optim.d.lr=4e-4, optim.g.lr=1e-4" {
		t.Errorf("names %q, %q", variantName(got[0]), variantName(got[2]))
	}
	for _, tc := range []struct {
		variants, varies, sets []string
		msg                    string
	}{
		{[]string{"loss=hinge"}, []string{"train.ema=0,0.9"}, nil, "not both"},
		{[]string{"lose=hinge"}, nil, nil, `unknown key "lose" (did you mean loss?)`},
		{[]string{"loss"}, nil, nil, "want key=value settings separated by spaces"},
		{[]string{"seed=2"}, nil, nil, "seed cannot vary"},
		{[]string{"loss=hinge loss=lsgan"}, nil, nil, "loss is set twice"},
		{[]string{"loss=hinge"}, nil, []string{"loss=lsgan"}, "also set by --set"},
		{[]string{"train.augment=[color"}, nil, nil, "a [ without its ]"},
		{[]string{"train.ema=0.9 loss=hinge", "loss=hinge  train.ema=0.9"}, nil, nil, "the same variant as --variant"},
		{[]string{"", " "}, nil, nil, "the same variant"},
	} {
		o := &ablateOptions{Variants: tc.variants, Varies: tc.varies, Sets: tc.sets}
		if _, err := o.variantSettings(); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("--variant %q --vary %q --set %q: %v, want an error saying %q", tc.variants, tc.varies, tc.sets, err, tc.msg)
		}
	}
}

// --merge pools the runs of several ablations by variant: the summaries
// are those of the pooled runs (computed here by hand), rows of different
// configurations are told apart, and what cannot be one table is refused
// before anything is written.
func TestAblateMerge(t *testing.T) {
	dir := t.TempDir()
	run := func(seed uint64, fcd, sps float64) *ablationRun {
		kl := fcd / 1000
		return &ablationRun{Seed: seed, Dir: fmt.Sprintf("r%d", seed), Steps: 100, SecondsPerStep: sps, Eval: &evaluate.Report{FCD: fcd, KLUniform: &kl}}
	}
	write := func(name string, f ablationFile) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(path, 0o755); err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(path, "ablation.json"), j, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	base := ablationFile{Config: "c.yaml", Sets: []string{}, Steps: 100, EvalN: 500, EvalSeed: 1, PRDC: false}
	a, b, c := base, base, base
	a.Seeds, a.Variants = []uint64{1}, []*variant{
		{Name: "baseline", Settings: []string{}, Runs: []*ablationRun{run(1, 100, 0.2)}},
		{Name: "loss=hinge", Settings: []string{"loss=hinge"}, Runs: []*ablationRun{run(1, 80, 0.2)}},
	}
	b.Sets = []string{"SEED=2", "train.threads=1"} // which seeds and how fast: the same variants
	b.Seeds, b.Variants = []uint64{2, 3}, []*variant{
		{Name: "baseline", Settings: []string{}, Runs: []*ablationRun{run(3, 130, 0.3), run(2, 110, 0.25)}},
	}
	c.Config = "other.yaml"
	c.Seeds, c.Variants = []uint64{1}, []*variant{{Name: "baseline", Settings: []string{}, Runs: []*ablationRun{run(1, 50, 0.4)}}}
	pa, pb, pc := write("a", a), write("b", b), write("c", c)

	out := filepath.Join(dir, "merged")
	code, stdout, errOut := gantrain(t, "ablate", "--merge", pa, "--merge", filepath.Join(pb, "ablation.json"), "--out", out)
	if code != 0 || strings.TrimSpace(stdout) != out {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, errOut)
	}
	var m ablationFile
	j, err := os.ReadFile(filepath.Join(out, "ablation.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Seeds, []uint64{1, 2, 3}) || m.Complete || len(m.Variants) != 2 || m.Config != "c.yaml" || m.Steps != 100 {
		t.Fatalf("merged: seeds %v, complete %v, %d variants, config %q, %d steps", m.Seeds, m.Complete, len(m.Variants), m.Config, m.Steps)
	}
	bl := m.Variants[0]
	if bl.Name != "baseline" || len(bl.Runs) != 3 || bl.Runs[0].Seed != 1 || bl.Runs[1].Seed != 2 || bl.Runs[2].Seed != 3 {
		t.Fatalf("baseline row: %+v", bl)
	}
	// FCD 100, 110, 130: mean 113.33…, sample sd sqrt((177.7 + 11.1 + 277.7)/2) = 15.275…
	if s := bl.Summary["fcd"]; s.N != 3 || math.Abs(s.Mean-340.0/3) > 1e-9 || math.Abs(s.SD-15.275252316519467) > 1e-9 || s.Min != 100 || s.Max != 130 {
		t.Errorf("baseline fcd %+v", s)
	}
	if s := bl.Summary["seconds_per_step"]; math.Abs(s.Mean-0.25) > 1e-12 {
		t.Errorf("baseline s/step %+v", s)
	}
	md, err := os.ReadFile(filepath.Join(out, "ablation.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| baseline | 113.3 ± 15 |") || !strings.Contains(string(md), "| loss=hinge (1 of 3 runs) | 80 |") ||
		!strings.Contains(string(md), "Incomplete") {
		t.Errorf("ablation.md:\n%s", md)
	}

	// Another configuration: its rows are named by it.
	out2 := filepath.Join(dir, "merged2")
	if code, _, errOut := gantrain(t, "ablate", "--merge", pa, "--merge", pc, "--out", out2); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	md, _ = os.ReadFile(filepath.Join(out2, "ablation.md"))
	for _, row := range []string{"| c.yaml: baseline | 100 |", "| other.yaml: baseline | 50 |", "| c.yaml: loss=hinge | 80 |"} {
		if !strings.Contains(string(md), row) {
			t.Errorf("no row %q in\n%s", row, md)
		}
	}

	d := base
	d.Steps = 200
	d.Variants = []*variant{}
	pd := write("d", d)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--merge", pa, "--merge", pa}, "given twice"},
		{[]string{"--merge", pa, "--merge", write("a2", a)}, "both hold variant baseline with seed 1"},
		{[]string{"--merge", pa, "--merge", pd}, "only runs of equal length measured alike make one table"},
		{[]string{"--merge", filepath.Join(dir, "none")}, "no such file"},
		{[]string{"--merge", pa, "--vary", "loss=bce"}, "trains nothing"},
		{[]string{"--merge", pa, "--out", out}, "already holds an ablation"},
	} {
		o := filepath.Join(dir, "refused")
		args := append([]string{"ablate", "--out", o}, tc.args...)
		code, _, errOut := gantrain(t, args...)
		if code == 0 || !strings.Contains(errOut, tc.msg) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%q: exit %d, stderr %q; want one line saying %q", tc.args, code, errOut, tc.msg)
		}
		if _, err := os.Stat(o); !os.IsNotExist(err) && !slices.Contains(tc.args, out) {
			t.Errorf("%q: %s was created", tc.args, o)
		}
	}
}

// Every refusal comes before anything is trained or written: one line,
// exit 2, and --out not created.
func TestAblateRefusesBeforeTraining(t *testing.T) {
	tiny := []string{"--config", "../../configs/dcgan-paper.yaml", "--set", "data.name=idx", "--set", "data.path=" + tinyData,
		"--set", "train.batch_size=16", "--set", "train.steps=2", "--set", "width=8"}
	held := t.TempDir()
	if err := os.WriteFile(filepath.Join(held, "ablation.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		out  string
		msg  string
	}{
		{"unknown key", []string{"--vary", "lose=bce,hinge"}, "", `unknown key "lose" (did you mean loss?)`},
		{"bad value", []string{"--vary", "loss=bce,hnge"}, "", `gantrain: --vary loss=hnge: loss: unknown loss "hnge"`},
		{"bad value of two keys", []string{"--vary", "loss=bce,hnge", "--vary", "train.n_critic=1"}, "", `gantrain: variant loss=hnge, train.n_critic=1: --vary loss=hnge: loss: unknown loss "hnge"`},
		{"bad list value", []string{"--vary", "train.augment=[],[translation,flip]"}, "", `unknown augmentation "flip"`},
		{"invalid variant", []string{"--vary", "model=dcgan,sgan", "--vary", "train.augment=[color]"}, "", "train.augment"},
		{"fixed key", []string{"--vary", "train.epochs=1,2"}, "", "train.epochs cannot vary"},
		{"output.dir set", []string{"--vary", "loss=bce", "--set", "output.dir=x"}, "", "the runs go into --out"},
		{"epochs and steps", []string{"--vary", "loss=bce", "--epochs", "2"}, "", "both say how long to train"},
		{"seeds", []string{"--vary", "loss=bce", "--seeds", "0"}, "", "--seeds"},
		{"results there", []string{"--vary", "loss=bce,hinge"}, held, "already holds an ablation (ablation.json)"},
		{"no classifier", []string{"--vary", "loss=bce,hinge"}, "", "gantrain classifier train --config ../../configs/dcgan-paper.yaml --set data.name=idx --set data.path=" + tinyData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.out
			if out == "" {
				out = filepath.Join(t.TempDir(), "ablation")
			}
			args := append(append([]string{"ablate", "--out", out}, tiny...), tc.args...)
			code, stdout, errOut := gantrain(t, args...)
			if code != 2 || !strings.Contains(errOut, tc.msg) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want 2 and one line saying %q", code, errOut, tc.msg)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if tc.out == "" {
				if _, err := os.Stat(out); !os.IsNotExist(err) {
					t.Errorf("%s was created (%v)", out, err)
				}
			} else if entries, _ := os.ReadDir(out); len(entries) != 1 {
				t.Errorf("%s changed: %d entries", out, len(entries))
			}
		})
	}
}

// The number of steps comes from the base configuration: --epochs of
// MNIST's 60,000 images at its batch size and n_critic, the same for
// every variant, whatever it varies; seeds count up from the config's.
func TestAblateStepsAndSeeds(t *testing.T) {
	if _, err := mnist.DefaultDir(); err != nil {
		t.Skipf("real MNIST not in the module cache: %v", err)
	}
	o := &ablateOptions{streams: &streams{Out: io.Discard, ErrOut: io.Discard}, ConfigPath: "../../configs/wgan.yaml",
		Sets: []string{"seed=7"}, Varies: []string{"train.n_critic=1,5", "train.batch_size=64,32"}, Seeds: 2, Epochs: 1,
		OutDir: filepath.Join(t.TempDir(), "a"), N: 100}
	p, err := prepareAblate(o)
	if err != nil {
		t.Fatal(err)
	}
	const steps = 60000 / 64 / 5 // wgan.yaml: batch 64, n_critic 5
	if p.file.Steps != steps || !reflect.DeepEqual(p.file.Seeds, []uint64{7, 8}) || len(p.file.Variants) != 4 {
		t.Fatalf("%d steps, seeds %v, %d variants", p.file.Steps, p.file.Seeds, len(p.file.Variants))
	}
	dirs := map[string]bool{}
	for _, v := range p.file.Variants {
		for i, c := range v.cfgs {
			if c.Train.Steps != steps || c.Seed != p.file.Seeds[i] || dirs[c.Output.Dir] || !strings.HasPrefix(c.Output.Dir, filepath.Join(o.OutDir, "runs")+"/") {
				t.Errorf("%s: steps %d, seed %d, dir %s", v.Name, c.Train.Steps, c.Seed, c.Output.Dir)
			}
			dirs[c.Output.Dir] = true
		}
	}
	if c := p.file.Variants[3].cfgs[0]; c.Train.NCritic != 5 || c.Train.BatchSize != 32 {
		t.Errorf("%s: n_critic %d, batch %d", p.file.Variants[3].Name, c.Train.NCritic, c.Train.BatchSize)
	}
	if _, err := os.Stat(o.OutDir); !os.IsNotExist(err) {
		t.Errorf("preparing wrote %s", o.OutDir)
	}
}

// A tiny real ablation on MNIST: two variants × two seeds, two steps
// each. The table has a row per variant with mean ± sd of the metrics
// and the step time; the JSON holds every run, each the report gantrain
// eval --run gives for that run, and their summaries.
func TestAblateTinyMNIST(t *testing.T) {
	if _, err := mnist.DefaultDir(); err != nil {
		t.Skipf("real MNIST not in the module cache: %v", err)
	}
	out := filepath.Join(t.TempDir(), "ablation")
	code, stdout, errOut := gantrain(t, "ablate", "--config", "../../configs/dcgan-paper.yaml", "--set", "train.steps=2",
		"--set", "width=8", "--set", "train.batch_size=8", "--set", "output.sample_every=0",
		"--vary", "train.augment=[],[translation,cutout,color]", "--seeds", "2", "--n", "100", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.TrimSpace(stdout) != out {
		t.Errorf("stdout %q, want %s", stdout, out)
	}
	md, err := os.ReadFile(filepath.Join(out, "ablation.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(l, "| ") {
			rows = append(rows, l)
		}
	}
	if len(rows) != 3 {
		t.Fatalf("ablation.md has %d table rows, want a header and 2:\n%s", len(rows), md)
	}
	for _, col := range []string{"fcd", "kl_uniform", "modes", "precision", "recall", "s/step"} {
		if !strings.Contains(rows[0], " "+col+" |") {
			t.Errorf("no column %s in %q", col, rows[0])
		}
	}
	for i, name := range []string{"train.augment=[]", "train.augment=[translation,cutout,color]"} {
		cells := strings.Split(rows[i+1], "|")
		if strings.TrimSpace(cells[1]) != name || strings.Count(rows[i+1], " ± ") != strings.Count(rows[0], "|")-2 {
			t.Errorf("row %d: %q, want %s and mean ± sd in every column", i+1, rows[i+1], name)
		}
	}
	if !strings.Contains(string(md), "sample standard deviation") || !strings.Contains(string(md), "2 steps") {
		t.Errorf("ablation.md does not say what it shows:\n%s", md)
	}

	var f struct {
		Steps    int      `json:"steps"`
		Seeds    []uint64 `json:"seeds"`
		Complete bool     `json:"complete"`
		Variants []struct {
			Name string `json:"name"`
			Runs []struct {
				Seed           uint64             `json:"seed"`
				Dir            string             `json:"dir"`
				Steps          int                `json:"steps"`
				SecondsPerStep float64            `json:"seconds_per_step"`
				Eval           map[string]float64 `json:"eval"`
			} `json:"runs"`
			Summary map[string]struct{ N, Mean, SD, Min, Max float64 } `json:"summary"`
		} `json:"variants"`
	}
	j, err := os.ReadFile(filepath.Join(out, "ablation.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, &f); err != nil {
		t.Fatal(err)
	}
	if f.Steps != 2 || !f.Complete || !reflect.DeepEqual(f.Seeds, []uint64{1, 2}) || len(f.Variants) != 2 {
		t.Fatalf("ablation.json: steps %d, complete %v, seeds %v, %d variants", f.Steps, f.Complete, f.Seeds, len(f.Variants))
	}
	var evaluated bool
	for _, v := range f.Variants {
		if len(v.Runs) != 2 {
			t.Fatalf("%s: %d runs", v.Name, len(v.Runs))
		}
		var fcds []float64
		for i, r := range v.Runs {
			if r.Seed != f.Seeds[i] || r.Steps != 2 || !(r.SecondsPerStep > 0) || !(r.Eval["fcd"] > 0) || r.Eval["n"] != 100 {
				t.Errorf("%s run %d: %+v", v.Name, i, r)
			}
			c, _, err := openCheckpoint(r.Dir, "")
			if err != nil {
				t.Fatal(err)
			}
			if c.State.Step != 2 || c.State.Config.Seed != r.Seed {
				t.Errorf("%s: checkpoint at step %d, seed %d", r.Dir, c.State.Step, c.State.Config.Seed)
			}
			fcds = append(fcds, r.Eval["fcd"])
			if !evaluated {
				// The numbers are gantrain eval --run's.
				code, ev, errOut := gantrain(t, "eval", "--run", r.Dir, "--n", "100")
				if code != 0 {
					t.Fatalf("eval: %s", errOut)
				}
				var rep map[string]float64
				if err := json.NewDecoder(bytes.NewBufferString(ev)).Decode(&rep); err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{"fcd", "kl_uniform", "modes", "precision", "recall", "density", "coverage", "classifier_score"} {
					if rep[k] != r.Eval[k] {
						t.Errorf("%s: eval --run gives %s %v, ablate %v", r.Dir, k, rep[k], r.Eval[k])
					}
				}
				evaluated = true
			}
		}
		s := v.Summary["fcd"]
		mean := (fcds[0] + fcds[1]) / 2
		sd := math.Abs(fcds[0]-fcds[1]) / math.Sqrt2
		if s.N != 2 || math.Abs(s.Mean-mean) > 1e-9*mean || math.Abs(s.SD-sd) > 1e-9*mean+1e-12 || s.Min != min(fcds[0], fcds[1]) || s.Max != max(fcds[0], fcds[1]) {
			t.Errorf("%s: fcd summary %+v for runs %v", v.Name, s, fcds)
		}
		if _, ok := v.Summary["seconds_per_step"]; !ok {
			t.Errorf("%s: no seconds_per_step summary", v.Name)
		}
	}
	// A second ablation into the same directory is refused (and would be
	// short if it were not).
	if code, _, errOut := gantrain(t, "ablate", "--set", "train.steps=1", "--set", "width=8", "--set", "train.batch_size=8",
		"--vary", "loss=bce", "--seeds", "1", "--n", "10", "--out", out); code != 2 || !strings.Contains(errOut, "already holds an ablation") {
		t.Errorf("again into %s: exit %d, %q", out, code, errOut)
	}
}

// WGAN with clipping against WGAN-GP, and R1 on and off, are ordinary
// --vary dimensions: model names with a hyphen and the train.r1 key.
func TestAblateVariesGradientPenalties(t *testing.T) {
	o := &ablateOptions{Varies: []string{"model=wgan,wgan-gp", "train.r1=0,10"}}
	dims, err := o.dimensions()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"model=wgan", "train.r1=0"}, {"model=wgan", "train.r1=10"}, {"model=wgan-gp", "train.r1=0"}, {"model=wgan-gp", "train.r1=10"}}
	if got := crossProduct(dims); !reflect.DeepEqual(got, want) {
		t.Errorf("variants %q, want %q", got, want)
	}
}
