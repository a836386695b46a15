package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/fsutil"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/oneline"
	"github.com/gantrain/gantrain/internal/optim"
	"github.com/gantrain/gantrain/internal/rng"
	"github.com/gantrain/gantrain/internal/safetensors"
	"go.yaml.in/yaml/v3"
)

// Imported describes what Import wrote.
type Imported struct {
	Model      string
	Step       int
	Checkpoint string // the run's checkpoint directory
	Optim      bool   // the optimiser state came along
	EMA        bool   // the moving average of G came along (train.ema)
	Metrics    int    // lines of metrics.jsonl
}

// Import turns src into a gantrain run in run (which must not exist or be
// empty): src is train.py's --out directory or an export (gantrain.json
// with model.safetensors or weights.safetensors, optim.safetensors when
// there is one, g_ema.safetensors when the run has train.ema), or a
// .safetensors file of gantrain's tensor names, whose model and shape are
// read off the tensors. Everything is read and checked before anything is
// written; version goes into the checkpoint's state.
func Import(src, run, version string) (*Imported, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, bad("%s: %v", src, unwrap(err))
	}
	var (
		state   checkpoint.State
		m       *models.GAN
		ema     models.Net
		opts    []checkpoint.Optim
		metrics []byte
	)
	if !st.IsDir() {
		if !strings.HasSuffix(src, ".safetensors") {
			return nil, bad("%s: not a directory (train.py's --out, an export) or a .safetensors file", src)
		}
		c, err := checkpoint.Read(src)
		if err != nil {
			return nil, BadInput{err}
		}
		if m, err = models.ForConfig(c.State.Config, len(c.State.Classes), rng.New(0, 0)); err != nil {
			return nil, bad("%s: %v", src, err)
		}
		if err := c.LoadModel(m); err != nil {
			return nil, BadInput{err}
		}
		state = c.State
	} else {
		meta, err := readMeta(filepath.Join(src, MetaFile))
		if err != nil {
			return nil, err
		}
		cfg := meta.Config
		cfg.Data.Size, cfg.Data.Channels = meta.Shape.Size, meta.Shape.Channels
		if cfg.Model != meta.Model {
			return nil, bad("%s: model %q but its config says %q", filepath.Join(src, MetaFile), meta.Model, cfg.Model)
		}
		if err := cfg.Validate(); err != nil {
			return nil, bad("%s: config: %v", filepath.Join(src, MetaFile), err)
		}
		classes := len(meta.Classes)
		if meta.Shape.Classes > 0 {
			if classes != 0 && classes != meta.Shape.Classes {
				return nil, bad("%s: %d class names for %d classes", filepath.Join(src, MetaFile), classes, meta.Shape.Classes)
			}
			classes = meta.Shape.Classes
		}
		if m, err = models.ForConfig(cfg, classes, rng.New(0, 0)); err != nil {
			return nil, bad("%s: %v", filepath.Join(src, MetaFile), err)
		}
		if m.Width != meta.Shape.Width || m.Latent != meta.Shape.Latent {
			return nil, bad("%s: shape %+v does not match its config (width %d, latent_dim %d)", filepath.Join(src, MetaFile), meta.Shape, m.Width, m.Latent)
		}
		wpath := filepath.Join(src, checkpoint.ModelFile)
		if _, err := os.Stat(wpath); errors.Is(err, fs.ErrNotExist) {
			wpath = filepath.Join(src, WeightsFile)
		}
		wf, err := safetensors.ReadFile(wpath)
		if err != nil {
			return nil, BadInput{err}
		}
		if err := checkpoint.LoadTensors(wpath, wf, m); err != nil {
			return nil, BadInput{err}
		}
		if ema, err = importEMA(filepath.Join(src, checkpoint.EMAFile), cfg, classes); err != nil {
			return nil, err
		}
		state = checkpoint.State{Step: meta.Step, Epoch: meta.Epoch, Config: cfg, Classes: meta.Classes}
		if len(state.Classes) == 0 && m.Classes > 0 && m.Conditional {
			for k := 0; k < m.Classes; k++ {
				state.Classes = append(state.Classes, fmt.Sprint(k))
			}
		}
		if opts, err = importOptim(filepath.Join(src, checkpoint.OptimFile), meta, m); err != nil {
			return nil, err
		}
		if metrics, err = metricsUpTo(filepath.Join(src, "metrics.jsonl"), meta.Step); err != nil {
			return nil, err
		}
	}
	if err := checkEmptyDir(run); err != nil {
		return nil, err
	}
	if state.Step < 0 || state.Epoch < 0 {
		return nil, bad("%s: negative step or epoch", src)
	}
	state.Version = version
	out := &Imported{Model: m.Name, Step: state.Step, Optim: len(opts) > 0, EMA: ema != nil, Metrics: bytes.Count(metrics, []byte("\n"))}
	var more []checkpoint.SaveOption
	if ema != nil {
		more = append(more, checkpoint.WithEMA(ema))
	}
	err = writeDir(run, func(tmp string) error {
		if _, err := checkpoint.Save(tmp, state, m, opts, more...); err != nil {
			return err
		}
		y, err := yaml.Marshal(state.Config)
		if err != nil {
			return err
		}
		hdr := fmt.Sprintf("# Imported by gantrain import from %s (step %d).\n", src, state.Step)
		if err := fsutil.WriteBytes(filepath.Join(tmp, "config.yaml"), append([]byte(hdr), y...), 0o644); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(tmp, "samples"), 0o755); err != nil {
			return err
		}
		return fsutil.WriteBytes(filepath.Join(tmp, "metrics.jsonl"), metrics, 0o644)
	})
	if err != nil {
		return nil, err
	}
	out.Checkpoint = checkpoint.Dir(run, state.Step)
	return out, nil
}

// readMeta reads and checks gantrain.json.
func readMeta(path string) (*Meta, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, bad("%s: %v (not an export or a train.py output directory)", path, unwrap(err))
	}
	// Keys added after the export was written keep their defaults.
	m := Meta{Config: config.Default()}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, bad("%s: %s", path, oneline.Error(err))
	}
	switch {
	case m.Format != metaFormat:
		return nil, bad("%s: format %q, want %q", path, m.Format, metaFormat)
	case !slices.Contains(Models, m.Model):
		return nil, bad("%s: model %q (import covers %s)", path, m.Model, strings.Join(Models, ", "))
	case m.Loss != "bce" && m.Loss != "wasserstein":
		return nil, bad("%s: loss %q, want bce or wasserstein", path, m.Loss)
	case m.Step < 0 || m.Epoch < 0:
		return nil, bad("%s: negative step or epoch", path)
	}
	return &m, nil
}

// importEMA reads the moving average of G (path, g_ema.safetensors) of a
// run with train.ema into a generator of the config's model: every tensor
// of G present with its shape, finite, nothing else. Without train.ema it
// returns nil, and the file must not be there.
func importEMA(path string, cfg config.Config, classes int) (models.Net, error) {
	_, err := os.Stat(path)
	switch {
	case cfg.Train.EMA == 0 && err == nil:
		return nil, bad("%s: a moving average of G, but train.ema is 0 in %s", path, filepath.Join(filepath.Dir(path), MetaFile))
	case cfg.Train.EMA == 0:
		return nil, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, bad("%s: missing: %s says train.ema %g, and this file is the run's moving average of G (export and train.py write it)", path, filepath.Join(filepath.Dir(path), MetaFile), cfg.Train.EMA)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, BadInput{err}
	}
	twin, err := models.ForConfig(cfg, classes, rng.New(0, 0))
	if err != nil {
		return nil, bad("%s: %v", path, err)
	}
	if err := checkpoint.LoadEMATensors(path, f, twin.Name, twin.G); err != nil {
		return nil, BadInput{err}
	}
	return twin.G, nil
}

// importOptim reads the optimiser state of both networks, if the file is
// there; gantrain.json's optim gives kinds and steps.
func importOptim(path string, meta *Meta, m *models.GAN) ([]checkpoint.Optim, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, BadInput{err}
	}
	known := map[string]bool{}
	var opts []checkpoint.Optim
	for _, net := range []struct {
		name string
		spec config.OptimSpec
		ps   []*nn.Param
	}{{"g", meta.Config.Optim.G, m.G.Params()}, {"d", meta.Config.Optim.D, m.D.Params()}} {
		saved, ok := meta.Optim[net.name]
		if !ok {
			return nil, bad("%s: no optimiser state for %q beside %s", filepath.Join(filepath.Dir(path), MetaFile), net.name, path)
		}
		o, err := optim.New(net.spec)
		if err != nil {
			return nil, bad("%s: %v", path, err)
		}
		if saved.Step < 0 {
			return nil, bad("%s: optimiser of %q: negative step %d", filepath.Join(filepath.Dir(path), MetaFile), net.name, saved.Step)
		}
		op := checkpoint.Optim{Net: net.name, O: o, Params: net.ps}
		if err := checkpoint.LoadOptimTensors(path, f, saved, op); err != nil {
			return nil, BadInput{err}
		}
		for _, p := range net.ps {
			for _, b := range []string{"exp_avg", "exp_avg_sq", "square_avg"} {
				known[p.Name+"."+b] = true
			}
		}
		opts = append(opts, op)
	}
	for _, t := range f.Tensors {
		if !known[t.Name] {
			return nil, bad("%s: unexpected tensor %q", path, t.Name)
		}
	}
	return opts, nil
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
