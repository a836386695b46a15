// Package export hands a run to PyTorch and takes it back.
//
// Export writes a self-contained PyTorch project for a run's newest
// checkpoint:
//
//	DIR/models.py            the run's networks, gantrain's tensor names and layouts
//	DIR/train.py             continues training (torchrun, DistributedDataParallel)
//	DIR/sample.py            G(z) in PyTorch, compared with gantrain's samples
//	DIR/stio.py              a safetensors reader and writer (stdlib + torch)
//	DIR/weights.safetensors  the checkpoint's model.safetensors, byte for byte
//	DIR/optim.safetensors    its optim.safetensors, byte for byte
//	DIR/g_ema.safetensors    train.ema only: its g_ema.safetensors (the moving
//	                         average of G), byte for byte
//	DIR/gantrain.json        model, shape, step, optimiser steps, data, config
//	DIR/config.yaml          the run's configuration
//	DIR/metrics.jsonl        the run's metrics up to the checkpoint
//	DIR/README.md            the commands
//
// train.py's output directory (model.safetensors, optim.safetensors,
// g_ema.safetensors with train.ema, gantrain.json, metrics.jsonl) and the
// export itself are what Import turns back into a run.
package export

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/fsutil"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/oneline"
	"github.com/gantrain/gantrain/internal/optim"
	"github.com/gantrain/gantrain/internal/rng"
	"go.yaml.in/yaml/v3"
)

//go:embed pytorch/models.py pytorch/train.py pytorch/sample.py pytorch/stio.py
var pyFiles embed.FS

//go:embed README.tmpl
var readmeTmpl string

// MetaFile is the JSON file Export writes and train.py updates; WeightsFile
// holds the exported weights (train.py writes model.safetensors).
const (
	MetaFile    = "gantrain.json"
	WeightsFile = "weights.safetensors"
	metaFormat  = "gantrain-export"
)

// Models lists the models Export covers.
var Models = []string{"dcgan", "wgan", "cgan", "gan"}

// Meta is gantrain.json.
type Meta struct {
	Format string `json:"format"`
	Model  string `json:"model"`
	// Loss is the loss trained with: bce (G non-saturating) or
	// wasserstein (with the weight clip).
	Loss    string   `json:"loss"`
	Step    int      `json:"step"`
	Epoch   int      `json:"epoch"`
	Shape   Shape    `json:"shape"`
	Classes []string `json:"classes,omitempty"`
	Data    DataSpec `json:"data"`
	// Optim is each network's optimiser kind and step count.
	Optim  map[string]checkpoint.OptimState `json:"optim,omitempty"`
	Config config.Config                    `json:"config"`
	// TrainedBy is "pytorch" once train.py has written the file.
	TrainedBy string `json:"trained_by,omitempty"`
	// From is the checkpoint exported.
	From string `json:"from,omitempty"`
}

// Shape is the model's shape.
type Shape struct {
	Latent   int `json:"latent"`
	Channels int `json:"channels"`
	Size     int `json:"size"`
	Width    int `json:"width"`
	Classes  int `json:"classes"`
}

// DataSpec tells train.py where the data is and how to prepare it.
type DataSpec struct {
	Kind       string `json:"kind"`             // idx or folder
	Images     string `json:"images,omitempty"` // idx: the image file
	Labels     string `json:"labels,omitempty"` // idx: the label file, "" if none
	Root       string `json:"root,omitempty"`   // folder
	Size       int    `json:"size"`
	Channels   int    `json:"channels"`
	Background [3]int `json:"background"`
	Flip       bool   `json:"flip"`
}

// BadInput marks an error in what the user gave: exit status 2.
type BadInput struct{ Err error }

func (e BadInput) Error() string { return e.Err.Error() }
func (e BadInput) Unwrap() error { return e.Err }

func bad(format string, args ...any) error { return BadInput{fmt.Errorf(format, args...)} }

// Export writes the PyTorch project of run's newest checkpoint into dir,
// which must not exist or be empty. Everything is checked first; the
// directory appears complete or not at all.
func Export(run, dir string) (*Meta, error) {
	ckDir, err := checkpoint.Latest(run)
	if err != nil {
		return nil, BadInput{err}
	}
	c, err := checkpoint.Read(ckDir)
	if err != nil {
		return nil, BadInput{err}
	}
	cfg := c.State.Config
	if !slices.Contains(Models, cfg.Model) {
		return nil, bad("--run %s: model %s: export to PyTorch covers %s (train.py has no %s losses)", run, cfg.Model, strings.Join(Models, ", "), cfg.Model)
	}
	for _, f := range []struct {
		on  bool
		key string
	}{{cfg.SpectralNorm, "spectral_norm"}, {cfg.MinibatchStd, "minibatch_std"}, {len(cfg.Train.Augment) > 0, "train.augment"}} {
		if f.on {
			return nil, bad("--run %s: the run uses %s, which train.py does not have yet: export covers runs without spectral_norm, minibatch_std and train.augment (d_norm: none, train.r1 and train.ema are carried)", run, f.key)
		}
	}
	m, err := models.ForConfig(cfg, len(c.State.Classes), rng.New(0, 0))
	if err != nil {
		return nil, bad("checkpoint %s: %v", ckDir, err)
	}
	loss := map[models.Loss]string{models.BCE: "bce", models.Wasserstein: "wasserstein"}[m.Loss]
	if loss == "" {
		return nil, bad("--run %s: loss %s: train.py has the bce and wasserstein losses only", run, cfg.Loss)
	}
	if err := c.LoadModel(m); err != nil {
		return nil, BadInput{err}
	}
	if !c.HasOptim() {
		return nil, bad("checkpoint %s has no %s: PyTorch could not continue it exactly", ckDir, checkpoint.OptimFile)
	}
	if cfg.Train.EMA > 0 {
		if !c.HasEMA() {
			return nil, bad("checkpoint %s has no %s, the moving average of G that train.ema %g keeps: PyTorch could not continue it exactly", ckDir, checkpoint.EMAFile, cfg.Train.EMA)
		}
		twin, err := models.ForConfig(cfg, len(c.State.Classes), rng.New(0, 0))
		if err != nil {
			return nil, bad("checkpoint %s: %v", ckDir, err)
		}
		if err := c.LoadEMA(twin.G); err != nil {
			return nil, BadInput{err}
		}
	}
	for _, net := range []struct {
		name string
		spec config.OptimSpec
		ps   []*nn.Param
	}{{"g", cfg.Optim.G, m.G.Params()}, {"d", cfg.Optim.D, m.D.Params()}} {
		o, err := optim.New(net.spec)
		if err != nil {
			return nil, bad("%s: %v", filepath.Join(ckDir, checkpoint.StateFile), err)
		}
		if err := c.LoadOptim(checkpoint.Optim{Net: net.name, O: o, Params: net.ps}); err != nil {
			return nil, BadInput{err}
		}
	}
	spec, err := dataSpec(cfg.Data, m)
	if err != nil {
		return nil, BadInput{err}
	}
	if err := checkEmptyDir(dir); err != nil {
		return nil, err
	}
	dataDir := spec.Root
	if spec.Kind == "idx" {
		dataDir = filepath.Dir(spec.Images)
	}
	if abs, err := filepath.Abs(dir); err == nil && (abs == dataDir || strings.HasPrefix(abs, dataDir+string(filepath.Separator))) {
		shown := dataDir
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, dataDir); err == nil && len(rel) < len(shown) {
				shown = rel
			}
		}
		return nil, bad("%s: inside the data directory %s, which gantrain never writes in", dir, shown)
	}
	meta := &Meta{
		Format: metaFormat, Model: cfg.Model, Loss: loss, Step: c.State.Step, Epoch: c.State.Epoch,
		Shape:   Shape{Latent: m.Latent, Channels: m.C, Size: m.H, Width: m.Width, Classes: m.Classes},
		Classes: c.State.Classes, Data: spec, Optim: c.State.Optim, Config: cfg,
	}
	if abs, err := filepath.Abs(ckDir); err == nil {
		meta.From = abs
	}
	metrics, err := metricsUpTo(filepath.Join(run, "metrics.jsonl"), c.State.Step)
	if err != nil {
		return nil, err
	}

	return meta, writeDir(dir, func(tmp string) error {
		for _, name := range []string{"models.py", "train.py", "sample.py", "stio.py"} {
			b, _ := pyFiles.ReadFile("pytorch/" + name)
			mode := os.FileMode(0o644)
			if name == "train.py" || name == "sample.py" {
				mode = 0o755
			}
			if err := fsutil.WriteBytes(filepath.Join(tmp, name), b, mode); err != nil {
				return err
			}
		}
		files := map[string]string{checkpoint.ModelFile: WeightsFile, checkpoint.OptimFile: checkpoint.OptimFile}
		if cfg.Train.EMA > 0 {
			files[checkpoint.EMAFile] = checkpoint.EMAFile
		}
		for src, dst := range files {
			b, err := os.ReadFile(filepath.Join(ckDir, src))
			if err != nil {
				return err
			}
			if err := fsutil.WriteBytes(filepath.Join(tmp, dst), b, 0o644); err != nil {
				return err
			}
		}
		if err := writeMeta(filepath.Join(tmp, MetaFile), meta); err != nil {
			return err
		}
		y, err := yaml.Marshal(cfg)
		if err != nil {
			return err
		}
		hdr := fmt.Sprintf("# The configuration of %s (step %d), exported to PyTorch.\n", ckDir, c.State.Step)
		if err := fsutil.WriteBytes(filepath.Join(tmp, "config.yaml"), append([]byte(hdr), y...), 0o644); err != nil {
			return err
		}
		if err := fsutil.WriteBytes(filepath.Join(tmp, "metrics.jsonl"), metrics, 0o644); err != nil {
			return err
		}
		var readme bytes.Buffer
		if err := template.Must(template.New("readme").Parse(readmeTmpl)).Execute(&readme, readmeData(meta, run)); err != nil {
			return err
		}
		return fsutil.WriteBytes(filepath.Join(tmp, "README.md"), readme.Bytes(), 0o644)
	})
}

// dataSpec resolves the run's data to absolute paths train.py can read.
func dataSpec(d config.Data, m *models.GAN) (DataSpec, error) {
	r, g, b, err := d.BackgroundRGB()
	if err != nil {
		return DataSpec{}, fmt.Errorf("data.background: %w", err)
	}
	s := DataSpec{Size: m.H, Channels: m.C, Background: [3]int{int(r), int(g), int(b)}, Flip: d.Flip}
	if d.Name == "folder" {
		s.Kind = "folder"
		if s.Root, err = filepath.Abs(d.Path); err != nil {
			return s, err
		}
		return s, nil
	}
	s.Kind = "idx"
	images, labels, err := data.IDXFiles(d)
	if err != nil {
		return s, err
	}
	if s.Images, err = filepath.Abs(images); err != nil {
		return s, err
	}
	if labels != "" {
		if s.Labels, err = filepath.Abs(labels); err != nil {
			return s, err
		}
	}
	return s, nil
}

// metricsUpTo returns the lines of a metrics.jsonl up to step (none if the
// file is missing).
func metricsUpTo(path string, step int) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			Step *int `json:"step"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Step == nil {
			return nil, bad("%s: line %q is not a metrics line", path, oneline.String(sc.Text()))
		}
		if *l.Step <= step {
			out.Write(sc.Bytes())
			out.WriteByte('\n')
		}
	}
	return out.Bytes(), sc.Err()
}

func writeMeta(path string, m *Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteBytes(path, append(b, '\n'), 0o644)
}

// checkEmptyDir accepts a directory that does not exist yet (in one that
// does) or is empty.
func checkEmptyDir(dir string) error {
	if dir == "" {
		return bad("empty directory name")
	}
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return bad("%s: exists and is not empty", dir)
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		parent := filepath.Dir(dir)
		if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
			return bad("%s: directory %s does not exist", dir, parent)
		}
		return nil
	default:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return bad("%s: %v", dir, err)
	}
}

// writeDir fills a temporary directory beside dir and renames it into
// place, so dir appears complete or not at all (an empty dir is replaced).
func writeDir(dir string, fill func(tmp string) error) error {
	dir = filepath.Clean(dir)
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	// os.Rename refuses an existing directory, even an empty one: remove
	// it (os.Remove removes nothing else).
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		if err := os.Remove(dir); err != nil {
			os.RemoveAll(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return fsutil.SyncDir(filepath.Dir(dir))
}

type readmeFields struct {
	Model, Run, From, Data, OptimG, OptimD              string
	Step, Size, Channels, Latent, Width, Classes, Batch int
	CheckpointEvery                                     int
	NoDNorm                                             bool
	R1, EMA                                             float64
}

func readmeData(m *Meta, run string) readmeFields {
	d := "the folder " + m.Data.Root
	if m.Data.Kind == "idx" {
		d = "the IDX files " + m.Data.Images
		if m.Data.Labels != "" {
			d += " and " + m.Data.Labels
		}
	}
	return readmeFields{
		Model: m.Model, Run: run, From: m.From, Data: d,
		OptimG: m.Config.Optim.G.Name, OptimD: m.Config.Optim.D.Name,
		Step: m.Step, Size: m.Shape.Size, Channels: m.Shape.Channels, Latent: m.Shape.Latent,
		Width: m.Shape.Width, Classes: m.Shape.Classes, Batch: m.Config.Train.BatchSize,
		CheckpointEvery: m.Config.Output.CheckpointEvery,
		NoDNorm:         m.Config.DNorm == "none", R1: m.Config.Train.R1, EMA: m.Config.Train.EMA,
	}
}
