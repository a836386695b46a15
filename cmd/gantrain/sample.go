package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/fsutil"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/imgio"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/npy"
	"github.com/gantrain/gantrain/internal/rng"
	"github.com/spf13/cobra"
)

type sampleOptions struct {
	*streams
	Run, Checkpoint string
	N               int
	Seed            uint64
	OutFile         string
	Nrow            int
	Class           string
	Format          string
	Z, SaveZ        string
	Scale           int
	Many            bool
}

func newSampleCmd(s *streams) *cobra.Command {
	o := &sampleOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "sample (--run RUN | --checkpoint DIR) [--n N] [--seed S | --z z.npy] --out FILE",
		Short: "Generate images from a trained model",
		Long: `Generate images from a run's newest checkpoint (--run) or from a
checkpoint directory (--checkpoint), with the generator in evaluation mode.

Latent vectors: from --seed (the same seed gives the same vectors on any
machine: PCG-DXSM from math/rand/v2 and Box–Muller in float64, see
internal/gen), or from --z, a float32 .npy file of shape (N, Z). --save-z
writes the vectors used, so that --z reproduces the images exactly.

Formats (--format, or from --out: .png, .npy, or a directory):
  png    one grid (--nrow images per row)
  pngs   one PNG per image in the directory --out (000000.png, …);
         more than 10,000 files need --many
  npy    float32 (N, 1, 28, 28) in [−1, 1]

For a conditional model (cgan), --class 7 draws --n images of digit 7, and
--class 0,3,7 draws --n images of each, one row per class, the same latent
vectors in every row. A class is an index or a name of the training
data's classes, which the run recorded (--class Sneaker for a run on
Fashion-MNIST). Without --class the labels cycle through 0..9. The
labels are written beside the output: <out>.labels.txt for png and pngs,
<out>.labels.npy (int64) for npy.

--out - writes the png or npy to stdout (messages stay on stderr). A file
is replaced atomically; a device or named pipe (/dev/null, a FIFO) is
written in place, and a symbolic link's target is written.`,
		Example: `  gantrain sample --run runs/smoke --n 64 --out g.png
  gantrain sample --run runs/cgan --class 3 --n 16 --out threes.png
  gantrain sample --run runs/cgan-fashion --class Sneaker,Bag --n 8 --out shoes-bags.png
  gantrain sample --run runs/dcgan --n 10000 --format npy --out samples.npy --save-z z.npy
  gantrain sample --run runs/dcgan --z z.npy --format pngs --out digits/
  gantrain sample --run runs/dcgan --n 16 --format npy --out - | python3 -c 'import io, sys, numpy; print(numpy.load(io.BytesIO(sys.stdin.buffer.read())).shape)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSample(o, cmd.Flags().Changed("n"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Run, "run", "", "run directory (its newest checkpoint is used)")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "checkpoint directory (checkpoints/step-NNNNNN)")
	f.IntVarP(&o.N, "n", "n", 64, "number of images (per class with --class)")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the latent vectors")
	f.StringVarP(&o.OutFile, "out", "o", "samples.png", "output file, directory for --format pngs, or - for stdout")
	f.IntVar(&o.Nrow, "nrow", 0, "images per grid row (default: a square grid, or --n with --class)")
	f.StringVar(&o.Class, "class", "", "conditional models: class or comma-separated classes to draw")
	f.StringVar(&o.Format, "format", "", "png | pngs | npy (default: from --out)")
	f.StringVar(&o.Z, "z", "", "read the latent vectors from this .npy file (N, Z) instead of --seed")
	f.StringVar(&o.SaveZ, "save-z", "", "write the latent vectors used to this .npy file")
	f.IntVar(&o.Scale, "scale", 1, "enlarge PNG output by this factor (nearest neighbour)")
	f.BoolVar(&o.Many, "many", false, fmt.Sprintf("allow --format pngs to write more than %d files", maxFiles))
	return cmd
}

// openCheckpoint resolves --run / --checkpoint and loads the model, with
// the moving average of G (train.ema) in place of G when it was saved.
func openCheckpoint(run, dir string) (*checkpoint.Checkpoint, *models.GAN, error) {
	switch {
	case run != "" && dir != "":
		return nil, nil, usagef("give --run or --checkpoint, not both")
	case run == "" && dir == "":
		return nil, nil, usagef("say which model to use with --run RUN or --checkpoint DIR")
	case run != "":
		var err error
		if dir, err = checkpoint.Latest(run); err != nil {
			return nil, nil, err
		}
	}
	c, err := checkpoint.Read(dir)
	if err != nil {
		return nil, nil, err
	}
	cfg := c.State.Config
	m, err := models.ForConfig(cfg, len(c.State.Classes), rng.New(0, 0))
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if err := c.LoadModel(m); err != nil {
		return nil, nil, err
	}
	// A run trained with train.ema samples from the moving average of G.
	if c.HasEMA() {
		if err := c.LoadEMA(m.G); err != nil {
			return nil, nil, err
		}
	}
	return c, m, nil
}

// outputFormat decides the format from --format or the output name.
func outputFormat(format, out string) (string, error) {
	switch format {
	case "png", "pngs", "npy":
		return format, nil
	case "":
	default:
		return "", usagef("--format %q: want png, pngs or npy", format)
	}
	switch {
	case strings.HasSuffix(out, ".npy"):
		return "npy", nil
	case strings.HasSuffix(out, ".png"):
		return "png", nil
	case strings.HasSuffix(out, "/"):
		return "pngs", nil
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return "pngs", nil
	}
	return "", usagef("--out %s: say --format png, pngs or npy (or name the file .png or .npy)", out)
}

// readZ reads latent vectors (N, Z) from a .npy file.
func readZ(path string, latent int) ([]float32, error) {
	a, err := npy.ReadFloat32File(path)
	if err != nil {
		return nil, usageError{err}
	}
	if _, err := a.Check2D(latent); err != nil {
		return nil, usagef("--z %s: %v (the model's latent size is %d)", path, err, latent)
	}
	if len(a.Data) == 0 {
		return nil, usagef("--z %s: no vectors", path)
	}
	for i, v := range a.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, usagef("--z %s: value %d is %v", path, i, v)
		}
	}
	return a.Data, nil
}

// maxFiles is the most files --format pngs writes without --many.
const maxFiles = 10000

// samplePlan is a checked sample command: the model, the latent vectors
// and labels to draw, and where the images go.
type samplePlan struct {
	m      *models.GAN
	format string
	z      []float32 // (n, Z)
	nz     int       // distinct latent vectors (--save-z writes these)
	labels []int
	nrow   int
}

func runSample(o *sampleOptions, nSet bool) error {
	p, err := prepareSample(o, nSet)
	if err != nil {
		return err
	}
	return p.run(o)
}

// prepareSample checks the flags, the outputs, the checkpoint and --z, and
// draws the latent vectors. It writes nothing.
func prepareSample(o *sampleOptions, nSet bool) (*samplePlan, error) {
	if o.N < 1 || o.N > 1_000_000 {
		return nil, usagef("--n must be between 1 and 1000000, got %d", o.N)
	}
	if o.Nrow < 0 || o.Scale < 1 || o.Scale > 16 {
		return nil, usagef("--nrow must be ≥ 0 and --scale between 1 and 16")
	}
	p := &samplePlan{}
	var err error
	if p.format, err = outputFormat(o.Format, o.OutFile); err != nil {
		return nil, err
	}
	if err := o.checkOutputs(p.format); err != nil {
		return nil, err
	}
	ckpt, m, err := openCheckpoint(o.Run, o.Checkpoint)
	if err != nil {
		return nil, err
	}
	p.m = m
	classes, err := parseClasses(o.Class, m, ckpt.State.Classes)
	if err != nil {
		return nil, err
	}
	z := []float32(nil)
	if o.Z != "" {
		if z, err = readZ(o.Z, m.Latent); err != nil {
			return nil, err
		}
		if nSet && len(z)/m.Latent != o.N {
			return nil, usagef("--n %d but --z %s holds %d vectors", o.N, o.Z, len(z)/m.Latent)
		}
	}
	nz := o.N
	if z != nil {
		nz = len(z) / m.Latent
	}
	n := nz * max(1, len(classes))
	if p.format == "pngs" && n > maxFiles && !o.Many {
		return nil, usagef("--format pngs writes one file per image: %d files in %s; add --many to write more than %d", n, o.OutFile, maxFiles)
	}
	if z == nil {
		z = gen.Noise(o.Seed, o.N, m.Latent)
	}
	p.nz, p.nrow = nz, o.Nrow
	switch {
	case classes != nil:
		// The same latent vectors for every class, one row per class.
		zs := make([]float32, 0, len(classes)*len(z))
		for _, c := range classes {
			zs = append(zs, z...)
			for i := 0; i < nz; i++ {
				p.labels = append(p.labels, c)
			}
		}
		z = zs
		if p.nrow == 0 {
			p.nrow = nz
		}
	case m.Conditional:
		for i := 0; i < nz; i++ {
			p.labels = append(p.labels, i%m.Classes)
		}
		if p.nrow == 0 {
			p.nrow = m.Classes
		}
	}
	p.z = z
	if p.nrow == 0 {
		p.nrow = int(math.Ceil(math.Sqrt(float64(n))))
	}
	return p, nil
}

// run generates the images and writes them (and --save-z).
func (p *samplePlan) run(o *sampleOptions) error {
	m := p.m
	n := len(p.z) / m.Latent
	start := time.Now()
	s, err := gen.NewSampler(m, min(n, 256))
	if err != nil {
		return err
	}
	defer s.Close()
	imgs, err := s.Generate(p.z, p.labels)
	if err != nil {
		return err
	}
	genTime := time.Since(start)
	if o.SaveZ != "" {
		if err := o.writeOut(o.SaveZ, func(w io.Writer) error { return npy.WriteFloat32(w, []int{p.nz, m.Latent}, p.z[:p.nz*m.Latent]) }); err != nil {
			return err
		}
	}
	if err := o.writeImages(p.format, o.OutFile, imgs, p.labels, m, p.nrow, o.Scale); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "gantrain: %d images generated in %s, written in %s\n", n, genTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if o.OutFile != stdoutName {
		fmt.Fprintln(o.Out, o.OutFile)
	}
	return nil
}

// checkOutputs checks --out and --save-z before any work.
func (o *sampleOptions) checkOutputs(format string) error {
	switch {
	case o.OutFile == stdoutName && format == "pngs":
		return usagef("--out -: --format pngs writes one file per image; give a directory, or --format png or npy")
	case o.OutFile == stdoutName && o.SaveZ == stdoutName:
		return usagef("--out - and --save-z -: only one output can go to stdout")
	}
	if format == "pngs" { // a directory, made if missing
		if err := checkOutDir("--out", o.OutFile); err != nil {
			return err
		}
	} else if err := o.checkOut("--out", o.OutFile); err != nil {
		return err
	}
	if o.SaveZ != "" {
		return o.checkOut("--save-z", o.SaveZ)
	}
	return nil
}

// writeImages writes generated images (n, C·H·W) in a format, and the
// labels of a conditional model beside them.
func (s *streams) writeImages(format, out string, imgs []float32, labels []int, m *models.GAN, nrow, scale int) error {
	pix := m.C * m.H * m.W
	n := len(imgs) / pix
	stem := strings.TrimSuffix(strings.TrimSuffix(out, "/"), filepath.Ext(out))
	// Labels go beside a file, not beside stdout, /dev/null or a pipe.
	beside := out != stdoutName && !fsutil.InPlace(out)
	switch format {
	case "png":
		g, err := imgio.Grid(imgs, n, m.C, m.H, m.W, nrow)
		if err != nil {
			return err
		}
		img := imgio.Scale(g, scale)
		if err := s.writeOut(out, func(w io.Writer) error { return imgio.EncodePNG(w, img) }); err != nil {
			return err
		}
	case "pngs":
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			g := imgio.Single(imgs[i*pix:(i+1)*pix], m.C, m.H, m.W)
			if err := imgio.WritePNG(filepath.Join(out, fmt.Sprintf("%06d.png", i)), imgio.Scale(g, scale)); err != nil {
				return err
			}
		}
		stem = filepath.Join(out, "labels")
	case "npy":
		if err := s.writeOut(out, func(w io.Writer) error { return npy.WriteFloat32(w, []int{n, m.C, m.H, m.W}, imgs) }); err != nil {
			return err
		}
		if labels != nil && beside {
			l := make([]int64, len(labels))
			for i, v := range labels {
				l[i] = int64(v)
			}
			return npy.WriteInt64File(stem+".labels.npy", []int{len(l)}, l)
		}
	}
	if labels == nil {
		return nil
	}
	if !beside {
		fmt.Fprintf(s.ErrOut, "gantrain: no labels file beside --out %s: the labels are --class's classes, one row each, or 0, 1, …, 9 in turn\n", out)
		return nil
	}
	var b strings.Builder
	for _, l := range labels {
		fmt.Fprintln(&b, l)
	}
	path := stem + ".labels.txt"
	return fsutil.WriteBytes(path, []byte(b.String()), 0o644)
}

// parseClasses reads --class: nil when absent. A class is an index or one
// of names, the training data's class names the run recorded.
func parseClasses(s string, m *models.GAN, names []string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	if !m.Conditional {
		return nil, usagef("--class: model %s is not conditional (train a cgan for that)", m.Name)
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		c := slices.Index(names, f)
		if c < 0 {
			if n, err := strconv.Atoi(f); err == nil {
				c = n
			}
		}
		if c < 0 || c >= m.Classes {
			known := ""
			if len(names) > 0 {
				known = " or a name: " + strings.Join(names, ", ")
			}
			return nil, usagef("--class %s: %q is not a class (an index in 0..%d%s)", s, f, m.Classes-1, known)
		}
		out = append(out, c)
	}
	return out, nil
}
