// Package checkpoint saves and loads training checkpoints:
//
//	<run>/checkpoints/step-NNNNNN/
//	    model.safetensors   G and D weights and batch-norm statistics, with
//	                        PyTorch names and layouts
//	    optim.safetensors   optimiser state (Adam moments, RMSProp averages)
//	    g_ema.safetensors   train.ema > 0 only: the moving average of G's
//	                        weights (and G's batch-norm statistics), under
//	                        G's names
//	    state.json          format version, model, step, epoch, config, data
//	                        order and RNG states
//	<run>/checkpoints/latest  name of the newest complete checkpoint
//
// A checkpoint is written into a temporary directory, every file fsynced,
// and renamed into place, so a crash never leaves a half checkpoint under a
// step-NNNNNN name; latest is updated last.
package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/fsutil"
	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/oneline"
	"github.com/gantrain/gantrain/internal/optim"
	"github.com/gantrain/gantrain/internal/safetensors"
	"gorgonia.org/gorgonia"
)

// FormatVersion is the version of the checkpoint layout written here.
const FormatVersion = 1

// File names inside a checkpoint directory.
const (
	ModelFile = "model.safetensors"
	OptimFile = "optim.safetensors"
	// EMAFile holds the moving average of G's weights (train.ema).
	EMAFile   = "g_ema.safetensors"
	StateFile = "state.json"
	// LatestFile, in the checkpoints directory, names the newest checkpoint.
	LatestFile = "latest"
)

// State is the JSON part of a checkpoint.
type State struct {
	FormatVersion int           `json:"format_version"`
	Model         string        `json:"model"`
	Step          int           `json:"step"`
	Epoch         int           `json:"epoch"`
	Time          string        `json:"time"`
	Version       string        `json:"gantrain_version"`
	Threads       int           `json:"threads"`
	Config        config.Config `json:"config"`
	// Classes names the training data's classes (label l is Classes[l]);
	// empty for unlabelled data.
	Classes []string              `json:"classes,omitempty"`
	Batcher *data.BatcherState    `json:"batcher,omitempty"`
	RNG     map[string][]byte     `json:"rng,omitempty"`
	Optim   map[string]OptimState `json:"optim,omitempty"`
	// Labeled lists the training images whose labels a semi-supervised
	// run uses (data.labeled), by index in the data set; LabeledBatcher
	// is the position in their (tiled) order.
	Labeled        []int              `json:"labeled,omitempty"`
	LabeledBatcher *data.BatcherState `json:"labeled_batcher,omitempty"`
}

// OptimState records an optimiser's kind and step count; its buffers live
// in optim.safetensors as "<net>.<param name>.<buffer>".
type OptimState struct {
	Name string `json:"name"`
	Step int    `json:"step"`
}

// Optim is an optimiser with the params it updates, for saving.
type Optim struct {
	Net    string // "g" or "d"
	O      optim.Optimizer
	Params []*nn.Param
}

// Dir returns the directory name of the checkpoint of step.
func Dir(runDir string, step int) string {
	return filepath.Join(runDir, "checkpoints", fmt.Sprintf("step-%06d", step))
}

// SaveOption adds to what Save writes.
type SaveOption func(*saveExtras)

type saveExtras struct{ ema models.Net }

// WithEMA saves g, the moving average of the model's generator, in EMAFile.
func WithEMA(g models.Net) SaveOption { return func(e *saveExtras) { e.ema = g } }

// Save writes a checkpoint of model (and optimisers) for st.Step under
// runDir and returns its directory.
func Save(runDir string, st State, model *models.GAN, opts []Optim, more ...SaveOption) (string, error) {
	var extras saveExtras
	for _, f := range more {
		f(&extras)
	}
	st.FormatVersion = FormatVersion
	st.Model = model.Name
	st.Time = time.Now().UTC().Format(time.RFC3339)
	parent := filepath.Join(runDir, "checkpoints")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	final := Dir(runDir, st.Step)
	tmp, err := os.MkdirTemp(parent, ".tmp-"+filepath.Base(final)+"-")
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	fail := func(err error) (string, error) {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("checkpoint: writing %s: %w", final, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it 0700
		return fail(err)
	}

	weights, err := modelTensors(model)
	if err != nil {
		return fail(err)
	}
	meta := map[string]string{"format": "gantrain", "model": model.Name, "step": strconv.Itoa(st.Step)}
	if err := writeTensors(filepath.Join(tmp, ModelFile), weights, meta); err != nil {
		return fail(err)
	}
	if extras.ema != nil {
		ts, err := modelTensors(&models.GAN{G: extras.ema, D: noNet{}})
		if err != nil {
			return fail(err)
		}
		if err := writeTensors(filepath.Join(tmp, EMAFile), ts, map[string]string{"format": "gantrain-ema", "model": model.Name}); err != nil {
			return fail(err)
		}
	}
	if len(opts) > 0 {
		st.Optim = map[string]OptimState{}
		var ts []safetensors.Tensor
		for _, o := range opts {
			step, bufs := o.O.State()
			st.Optim[o.Net] = OptimState{Name: o.O.Name(), Step: step}
			for key, data := range bufs {
				buf, idx, ok := strings.Cut(key, ".")
				i, err := strconv.Atoi(idx)
				if !ok || err != nil || i < 0 || i >= len(o.Params) {
					return fail(fmt.Errorf("optimiser buffer %q has no param", key))
				}
				p := o.Params[i]
				t, err := safetensors.FromFloat32(p.Name+"."+buf, p.Shape(), data)
				if err != nil {
					return fail(err)
				}
				ts = append(ts, t)
			}
		}
		if err := writeTensors(filepath.Join(tmp, OptimFile), ts, map[string]string{"format": "gantrain-optim"}); err != nil {
			return fail(err)
		}
	}
	js, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fail(err)
	}
	if err := fsutil.WriteBytes(filepath.Join(tmp, StateFile), append(js, '\n'), 0o644); err != nil {
		return fail(err)
	}
	// Move an older checkpoint of the same step out of the way, then swap.
	var old string
	if _, err := os.Stat(final); err == nil {
		old = tmp + ".old"
		if err := os.Rename(final, old); err != nil {
			return fail(err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return fail(err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	if err := fsutil.SyncDir(parent); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if err := fsutil.WriteBytes(filepath.Join(parent, LatestFile), []byte(filepath.Base(final)+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("checkpoint: updating %s: %w", LatestFile, err)
	}
	return final, nil
}

func writeTensors(path string, ts []safetensors.Tensor, meta map[string]string) error {
	return fsutil.WriteFile(path, 0o644, func(w io.Writer) error { return safetensors.Encode(w, ts, meta) })
}

// modelTensors lists a model's params and buffers as safetensors tensors.
func modelTensors(m *models.GAN) ([]safetensors.Tensor, error) {
	var ts []safetensors.Tensor
	for _, p := range m.Params() {
		t, err := safetensors.FromFloat32(p.Name, p.Shape(), p.Data())
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	for _, b := range m.Buffers() {
		var t safetensors.Tensor
		var err error
		if b.Count != nil {
			t, err = safetensors.FromInt64(b.Name, []int{}, []int64{*b.Count})
		} else {
			t, err = safetensors.FromFloat32(b.Name, b.Shape, b.Data)
		}
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// Prune removes all but the newest keep checkpoints of a run (keep ≤ 0:
// none removed). The one latest names is never removed.
func Prune(runDir string, keep int) error {
	if keep <= 0 {
		return nil
	}
	steps, err := List(runDir)
	if err != nil {
		return err
	}
	for len(steps) > keep {
		if err := os.RemoveAll(Dir(runDir, steps[0])); err != nil {
			return fmt.Errorf("checkpoint: pruning: %w", err)
		}
		steps = steps[1:]
	}
	return nil
}

// List returns the steps of a run's complete checkpoints, oldest first.
func List(runDir string) ([]int, error) {
	entries, err := os.ReadDir(filepath.Join(runDir, "checkpoints"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var steps []int
	for _, e := range entries {
		s, ok := strings.CutPrefix(e.Name(), "step-")
		if !ok || !e.IsDir() {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			continue
		}
		steps = append(steps, n)
	}
	sort.Ints(steps)
	return steps, nil
}

// Latest returns the directory of a run's newest checkpoint.
func Latest(runDir string) (string, error) {
	if b, err := os.ReadFile(filepath.Join(runDir, "checkpoints", LatestFile)); err == nil {
		name := strings.TrimSpace(string(b))
		if strings.HasPrefix(name, "step-") && !strings.ContainsAny(name, `/\`) {
			dir := filepath.Join(runDir, "checkpoints", name)
			if _, err := os.Stat(filepath.Join(dir, StateFile)); err == nil {
				return dir, nil
			}
		}
	}
	steps, err := List(runDir)
	if err != nil {
		return "", err
	}
	if len(steps) == 0 {
		return "", fmt.Errorf("checkpoint: %s holds no checkpoint (no checkpoints/step-*/ directory)", runDir)
	}
	return Dir(runDir, steps[len(steps)-1]), nil
}

// Checkpoint is a checkpoint read from disk and checked.
type Checkpoint struct {
	Dir   string
	State State
	model *safetensors.File
	optim *safetensors.File // nil when absent
	ema   *safetensors.File // nil when absent
	bare  bool              // Dir is a weights file with no state (readWeights)
}

// Read loads and checks a checkpoint directory (its state and model
// weights; the optimiser file is read when present).
func Read(dir string) (*Checkpoint, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if fi.Mode().IsRegular() && strings.HasSuffix(dir, ".safetensors") {
		return readWeights(dir)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("checkpoint: %s is not a checkpoint directory or a .safetensors weights file", dir)
	}
	c := &Checkpoint{Dir: dir}
	statePath := filepath.Join(dir, StateFile)
	b, err := os.ReadFile(statePath)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	// Keys added to the configuration after a checkpoint was written keep
	// their defaults (a checkpoint from before sgan has no sgan.g_loss).
	c.State.Config = config.Default()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c.State); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %s", statePath, oneline.Error(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("checkpoint: %s: trailing data after the JSON object", statePath)
	}
	if c.State.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("checkpoint: %s: format version %d, this gantrain reads %d", statePath, c.State.FormatVersion, FormatVersion)
	}
	if c.State.Step < 0 || c.State.Epoch < 0 {
		return nil, fmt.Errorf("checkpoint: %s: negative step or epoch", statePath)
	}
	if _, ok := models.Lookup(c.State.Model); !ok {
		return nil, fmt.Errorf("checkpoint: %s: unknown model %q (known: %s)", statePath, c.State.Model, strings.Join(models.Names(), ", "))
	}
	if c.State.Config.Model != c.State.Model {
		return nil, fmt.Errorf("checkpoint: %s: model %q but its config says %q", statePath, c.State.Model, c.State.Config.Model)
	}
	if c.model, err = safetensors.ReadFile(filepath.Join(dir, ModelFile)); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if m := c.model.Metadata["model"]; m != "" && m != c.State.Model {
		return nil, fmt.Errorf("checkpoint: %s holds %s weights, but %s says model %s", filepath.Join(dir, ModelFile), m, StateFile, c.State.Model)
	}
	if _, err := os.Stat(filepath.Join(dir, EMAFile)); err == nil {
		if c.ema, err = safetensors.ReadFile(filepath.Join(dir, EMAFile)); err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
	}
	optPath := filepath.Join(dir, OptimFile)
	if _, err := os.Stat(optPath); err == nil {
		if c.optim, err = safetensors.ReadFile(optPath); err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
	}
	return c, nil
}

// LoadModel copies the checkpoint's weights and statistics into m, which
// must be the same model: every tensor must be present with its shape and
// dtype, none may be extra, and all values must be finite.
func (c *Checkpoint) LoadModel(m *models.GAN) error {
	if c.State.Model != m.Name {
		return fmt.Errorf("checkpoint: %s is a %s checkpoint, not %s", c.Dir, c.State.Model, m.Name)
	}
	if c.bare {
		f, err := fillD(c.model, m)
		if err != nil {
			return err
		}
		return LoadTensors(c.Dir, f, m)
	}
	return LoadTensors(filepath.Join(c.Dir, ModelFile), c.model, m)
}

// LoadTensors copies f's tensors, read from path, into m's params and
// buffers: every one must be present with m's shape and finite values, and
// f must hold nothing else. Nothing of m changes unless all are good. A
// num_batches_tracked counter (I64 scalar) may be absent, as older files
// lack it; it then stays 0.
func LoadTensors(path string, f *safetensors.File, m *models.GAN) error {
	type dst struct {
		shape []int
		data  []float32
		count *int64
	}
	dsts := map[string]dst{}
	for _, p := range m.Params() {
		dsts[p.Name] = dst{shape: p.Shape(), data: p.Data()}
	}
	for _, b := range m.Buffers() {
		dsts[b.Name] = dst{shape: b.Shape, data: b.Data, count: b.Count}
	}
	for _, t := range f.Tensors {
		if _, ok := dsts[t.Name]; !ok {
			return fmt.Errorf("checkpoint: %s: unexpected tensor %q for model %s", path, t.Name, m.Name)
		}
	}
	// Check everything before changing anything.
	vals := map[string][]float32{}
	counts := map[string]int64{}
	for name, d := range dsts {
		t, ok := f.Get(name)
		switch {
		case !ok && d.count != nil:
			continue
		case !ok:
			return fmt.Errorf("checkpoint: %s: missing tensor %q", path, name)
		case d.count != nil:
			v, err := t.Int64s()
			if err != nil || len(t.Shape) != 0 || len(v) != 1 || v[0] < 0 {
				return fmt.Errorf("checkpoint: %s: tensor %q: want a non-negative I64 scalar, got %s %v", path, name, t.DType, t.Shape)
			}
			counts[name] = v[0]
			continue
		}
		v, err := checkTensor(t, d.shape)
		if err != nil {
			return fmt.Errorf("checkpoint: %s: %w", path, err)
		}
		vals[name] = v
	}
	for name, d := range dsts {
		if d.count != nil {
			*d.count = counts[name]
		} else {
			copy(d.data, vals[name])
		}
	}
	return nil
}

func checkTensor(t safetensors.Tensor, shape []int) ([]float32, error) {
	if t.DType != safetensors.F32 {
		return nil, fmt.Errorf("tensor %q is %s, want F32", t.Name, t.DType)
	}
	if !equalInts(t.Shape, shape) {
		return nil, fmt.Errorf("tensor %q has shape %v, want %v", t.Name, t.Shape, shape)
	}
	v, err := t.Float32s()
	if err != nil {
		return nil, err
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("tensor %q holds a non-finite value (%v at index %d)", t.Name, x, i)
		}
	}
	return v, nil
}

// HasEMA reports whether the checkpoint holds the moving average of G's
// weights (train.ema).
func (c *Checkpoint) HasEMA() bool { return c.ema != nil }

// LoadEMA copies the moving average of G's weights into g, a generator of
// the checkpoint's model, with LoadTensors' checks.
func (c *Checkpoint) LoadEMA(g models.Net) error {
	if c.ema == nil {
		return fmt.Errorf("checkpoint: %s holds no moving average of G (%s; train.ema was 0)", c.Dir, EMAFile)
	}
	return LoadEMATensors(filepath.Join(c.Dir, EMAFile), c.ema, c.State.Model, g)
}

// LoadEMATensors copies f's tensors, read from path, into g, the moving
// average of the generator of model, with LoadTensors' checks: G's
// tensors, all of them and nothing else.
func LoadEMATensors(path string, f *safetensors.File, model string, g models.Net) error {
	return LoadTensors(path, f, &models.GAN{Name: model, G: g, D: noNet{}})
}

// noNet is a network without tensors: the D beside a lone generator.
type noNet struct{}

func (noNet) Forward(*nn.Graph, *gorgonia.Node, *gorgonia.Node) *gorgonia.Node { return nil }
func (noNet) Params() []*nn.Param                                              { return nil }
func (noNet) Buffers() []nn.Buffer                                             { return nil }
func (noNet) BatchNorms() []*kernels.BNStats                                   { return nil }

// HasOptim reports whether the checkpoint holds optimiser state.
func (c *Checkpoint) HasOptim() bool { return c.optim != nil && c.State.Optim != nil }

// LoadOptim restores the state of the optimiser saved for net ("g" or "d").
func (c *Checkpoint) LoadOptim(o Optim) error {
	path := filepath.Join(c.Dir, OptimFile)
	if !c.HasOptim() {
		return fmt.Errorf("checkpoint: %s holds no optimiser state", c.Dir)
	}
	saved, ok := c.State.Optim[o.Net]
	if !ok {
		return fmt.Errorf("checkpoint: %s: no optimiser state for %q", filepath.Join(c.Dir, StateFile), o.Net)
	}
	if saved.Name != o.O.Name() {
		return fmt.Errorf("checkpoint: %s: optimiser of %q is %s, the config says %s", filepath.Join(c.Dir, StateFile), o.Net, saved.Name, o.O.Name())
	}
	return LoadOptimTensors(path, c.optim, saved, o)
}

// LoadOptimTensors restores o from the buffers "<param>.<buffer>" that f,
// read from path, holds for the state saved (kind and step): every buffer
// of every param must be there with the param's shape and finite values.
func LoadOptimTensors(path string, f *safetensors.File, saved OptimState, o Optim) error {
	if saved.Name != o.O.Name() {
		return fmt.Errorf("checkpoint: %s: optimiser of %q is %s, the config says %s", path, o.Net, saved.Name, o.O.Name())
	}
	prefix := map[string]string{"adam": "exp_avg,exp_avg_sq", "rmsprop": "square_avg"}[saved.Name]
	bufs := map[string][]float32{}
	if saved.Step > 0 {
		for i, p := range o.Params {
			for _, buf := range strings.Split(prefix, ",") {
				t, ok := f.Get(p.Name + "." + buf)
				if !ok {
					return fmt.Errorf("checkpoint: %s: missing tensor %q", path, p.Name+"."+buf)
				}
				v, err := checkTensor(t, p.Shape())
				if err != nil {
					return fmt.Errorf("checkpoint: %s: %w", path, err)
				}
				bufs[fmt.Sprintf("%s.%d", buf, i)] = append([]float32(nil), v...)
			}
		}
	}
	return o.O.SetState(saved.Step, bufs)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
