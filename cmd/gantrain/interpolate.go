package main

import (
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/imgio"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/npy"
	"github.com/gantrain/gantrain/internal/zspace"
	"github.com/spf13/cobra"
)

type interpOptions struct {
	*streams
	Run, Checkpoint string
	From, To, Path  string
	Steps           int
	Method          string
	Class           int
	FromClass       int
	ToClass         int
	Seed            uint64
	Expr            string
	OutFile         string
	Format          string
	Scale           int
	Nrow            int
	Delay           int
	Dir             string
	Amount          float64
}

func newInterpolateCmd(s *streams) *cobra.Command {
	o := &interpOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "interpolate (--run RUN | --checkpoint DIR) (--from A --to B | --path A,B,… | --from-class K --to-class L | --expr EXPR) --out FILE",
		Short: "Walk the latent space: interpolation, label morphs, vector arithmetic",
		Long: `Explore what the generator learned by moving its input z.

Points are seeds (3 or s3: the z of seed 3, as gantrain sample --seed 3 --n 1
draws it), rows of a .npy file (z.npy[2]), means of seeds (mean(4,9,21)) or
any expression of the --expr language.

  --from A --to B, --path A,B,C   frames along the path, --steps per segment,
                                  --method slerp (default; right for Gaussian
                                  z, White 2016) or lerp
  --from-class K --to-class L     conditional models: morph the label
                                  embedding at the fixed z of --seed
  --class K                       conditional models: the label held fixed
  --expr "s12 + s7 - s3"          vector arithmetic: a row of each operand's
                                  image, then the result (terms: sN, mean(…),
                                  file.npy[i], dir(d.npy), c*term; + and -)
  --from A --dir d.npy            walk along a saved direction (gantrain
                                  directions): A − amount·d … A + amount·d

Output: a PNG strip or grid (--format png) or an animated GIF (--format gif,
or an --out ending in .gif), to stdout with --out -. Same inputs, same
bytes.`,
		Example: `  gantrain interpolate --run runs/dcgan --from 3 --to 17 --steps 10 --out strip.png
  gantrain interpolate --run runs/dcgan --path 3,17,42 --format gif --out morph.gif
  gantrain interpolate --run runs/cgan --from-class 1 --to-class 7 --seed 5 --out one-to-seven.png
  gantrain interpolate --run runs/dcgan --expr "mean(1,2,3) - mean(4,5,6) + s7" --out arith.png
  gantrain interpolate --run runs/dcgan --from 5 --dir thick.npy --amount 3 --out thicker.png
  gantrain interpolate --run runs/dcgan --expr "s5 + 2*dir(thick.npy)" --out thick5.png`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("class") {
				o.Class = -1
			}
			if !cmd.Flags().Changed("from-class") {
				o.FromClass = -1
			}
			if !cmd.Flags().Changed("to-class") {
				o.ToClass = -1
			}
			return runInterpolate(o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Run, "run", "", "run directory (its newest checkpoint is used)")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "checkpoint directory")
	f.StringVar(&o.From, "from", "", "start point (seed, z.npy[i], or expression)")
	f.StringVar(&o.To, "to", "", "end point")
	f.StringVar(&o.Path, "path", "", "comma-separated points, e.g. 3,17,42")
	f.IntVar(&o.Steps, "steps", 8, "frames per segment, both ends included")
	f.StringVar(&o.Method, "method", "slerp", "slerp | lerp")
	f.IntVar(&o.Class, "class", -1, "conditional models: the label of every frame")
	f.IntVar(&o.FromClass, "from-class", -1, "conditional models: morph the label from this class")
	f.IntVar(&o.ToClass, "to-class", -1, "… to this class")
	f.Uint64Var(&o.Seed, "seed", 1, "the fixed z of a label morph (unless --from is given)")
	f.StringVar(&o.Expr, "expr", "", "vector arithmetic on latent vectors, e.g. \"s12 + s7 - s3\"")
	f.StringVarP(&o.OutFile, "out", "o", "interpolation.png", "output file (.png or .gif), or - for stdout")
	f.StringVar(&o.Format, "format", "", "png | gif (default: from --out)")
	f.IntVar(&o.Scale, "scale", 0, "enlarge by this factor (default 1 for png, 4 for gif)")
	f.IntVar(&o.Nrow, "nrow", 0, "images per row of the PNG (default: all in one row)")
	f.IntVar(&o.Delay, "delay", 12, "gif: hundredths of a second per frame")
	f.StringVar(&o.Dir, "dir", "", "with --from: walk along the direction saved in this .npy file")
	f.Float64Var(&o.Amount, "amount", 3, "with --dir: how far to walk each way")
	return cmd
}

// pointExpr reads a point given as a bare seed number or an expression.
func pointExpr(s string) string {
	s = strings.TrimSpace(s)
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return "s" + s
	}
	return s
}

// parseExpr parses an expression, turning parse errors into one-line usage
// errors that quote the position.
func parseExpr(flag, src string) (zspace.Expr, error) {
	e, err := zspace.Parse(src)
	if err != nil {
		var pe *zspace.ParseError
		if errors.As(err, &pe) {
			rest := []rune(src)
			at := ""
			if pe.Pos-1 < len(rest) && pe.Pos >= 1 {
				at = fmt.Sprintf(" (at %q)", string(rest[pe.Pos-1:]))
			}
			return nil, usagef("%s %q: %v%s", flag, src, err, at)
		}
		return nil, usagef("%s %q: %v", flag, src, err)
	}
	return e, nil
}

func loadRows(path string) ([][]float32, error) {
	a, err := npy.ReadFloat32File(path)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) == 1 { // a single vector, such as a saved direction
		return [][]float32{a.Data}, nil
	}
	if len(a.Shape) != 2 {
		return nil, fmt.Errorf("npy: %s: shape %v, want (N, Z) or (Z)", path, a.Shape)
	}
	rows := make([][]float32, a.Shape[0])
	for i := range rows {
		rows[i] = a.Data[i*a.Shape[1] : (i+1)*a.Shape[1]]
	}
	return rows, nil
}

// evalPoint evaluates a point or expression to a latent vector.
func evalPoint(flag, src string, m *models.GAN, resolve func(zspace.Term) ([]float32, error)) ([]float32, zspace.Expr, error) {
	e, err := parseExpr(flag, src)
	if err != nil {
		return nil, nil, err
	}
	z, err := zspace.Eval(e, resolve)
	if err != nil {
		return nil, nil, usagef("%s %q: %v", flag, src, err)
	}
	if len(z) != m.Latent {
		return nil, nil, usagef("%s %q: vector of %d values, the model's latent size is %d", flag, src, len(z), m.Latent)
	}
	return z, e, nil
}

// interpPlan is a checked interpolate command: the model, the frames'
// latent vectors (and label mixes) and the output.
type interpPlan struct {
	m       *models.GAN
	format  string
	z, mix  []float32
	n, nrow int
}

func runInterpolate(o *interpOptions) error {
	p, err := prepareInterpolate(o)
	if err != nil {
		return err
	}
	return p.run(o)
}

// prepareInterpolate checks the flags, the output and the checkpoint, and
// computes every frame's latent vector. It writes nothing.
func prepareInterpolate(o *interpOptions) (*interpPlan, error) {
	format := o.Format
	if format == "" {
		format = "png"
		if strings.HasSuffix(o.OutFile, ".gif") {
			format = "gif"
		}
	}
	if format != "png" && format != "gif" {
		return nil, usagef("--format %q: want png or gif", format)
	}
	if o.Scale == 0 {
		o.Scale = map[string]int{"png": 1, "gif": 4}[format]
	}
	if o.Steps < 2 || o.Steps > 1000 || o.Scale < 1 || o.Scale > 16 || o.Nrow < 0 || o.Delay < 1 {
		return nil, usagef("--steps must be in 2..1000, --scale in 1..16, --delay ≥ 1")
	}
	if err := o.checkOut("--out", o.OutFile); err != nil {
		return nil, err
	}
	modes := 0
	for _, on := range []bool{o.From != "" || o.To != "", o.Path != "", o.FromClass >= 0 || o.ToClass >= 0, o.Expr != ""} {
		if on {
			modes++
		}
	}
	morph := o.FromClass >= 0 || o.ToClass >= 0
	if morph && o.From != "" && o.To == "" && o.Path == "" && o.Expr == "" {
		modes = 1 // --from gives the fixed z of a label morph
	}
	if modes != 1 {
		return nil, usagef("give one of --from/--to, --path, --from-class/--to-class or --expr")
	}
	if o.Dir != "" {
		if o.From == "" || o.To != "" || o.Path != "" || morph {
			return nil, usagef("--dir walks from the point --from; leave out --to, --path and the class morph")
		}
		if math.IsNaN(o.Amount) || math.IsInf(o.Amount, 0) || o.Amount <= 0 {
			return nil, usagef("--amount must be a positive number, got %v", o.Amount)
		}
		if strings.ContainsAny(o.Dir, "(),") {
			return nil, usagef("--dir %s: a file name without parentheses or commas", o.Dir)
		}
		a := strconv.FormatFloat(o.Amount, 'g', -1, 64)
		from := pointExpr(o.From)
		o.From = "(" + from + ") - " + a + "*dir(" + o.Dir + ")"
		o.To = "(" + from + ") + " + a + "*dir(" + o.Dir + ")"
		o.Method = "lerp" // a straight line along the direction
	}
	_, m, err := openCheckpoint(o.Run, o.Checkpoint)
	if err != nil {
		return nil, err
	}
	if !m.Conditional && (o.Class >= 0 || morph) {
		return nil, usagef("--class, --from-class and --to-class need a conditional model; %s is not", m.Name)
	}
	for _, c := range []int{o.Class, o.FromClass, o.ToClass} {
		if c >= m.Classes {
			return nil, usagef("class %d: the model has classes 0..%d", c, m.Classes-1)
		}
	}
	if m.Conditional && !morph && o.Class < 0 {
		return nil, usagef("model %s is conditional: say which digit with --class (or morph labels with --from-class/--to-class)", m.Name)
	}
	resolve := zspace.SeedResolver(m.Latent, loadRows)

	var z []float32 // the frames' latent vectors, one after another
	var mix []float32
	nrow := o.Nrow
	switch {
	case morph:
		if o.FromClass < 0 || o.ToClass < 0 {
			return nil, usagef("a label morph needs both --from-class and --to-class")
		}
		src := "s" + strconv.FormatUint(o.Seed, 10)
		if o.From != "" {
			src = pointExpr(o.From)
		}
		z0, _, err := evalPoint("--from", src, m, resolve)
		if err != nil {
			return nil, err
		}
		for i := 0; i < o.Steps; i++ {
			t := float32(i) / float32(o.Steps-1)
			w := make([]float32, m.Classes)
			w[o.FromClass] += 1 - t
			w[o.ToClass] += t
			z = append(z, z0...)
			mix = append(mix, w...)
		}
	case o.Expr != "":
		e, err := parseExpr("--expr", o.Expr)
		if err != nil {
			return nil, err
		}
		for _, term := range e.Terms() {
			v, err := resolve(term)
			if err != nil {
				return nil, usagef("--expr %q: %s: %v", o.Expr, term.Src, err)
			}
			z = append(z, v...)
		}
		r, err := zspace.Eval(e, resolve)
		if err != nil {
			return nil, usagef("--expr %q: %v", o.Expr, err)
		}
		z = append(z, r...)
		fmt.Fprintf(o.ErrOut, "gantrain: %d operand images, then %s\n", len(e.Terms()), e)
	default:
		points := []string{o.From, o.To}
		if o.Path != "" {
			points = strings.Split(o.Path, ",")
		}
		if len(points) < 2 || points[0] == "" || points[len(points)-1] == "" {
			return nil, usagef("interpolation needs two points: --from A --to B, or --path A,B,…")
		}
		var vecs [][]float32
		for _, p := range points {
			v, _, err := evalPoint("point", pointExpr(p), m, resolve)
			if err != nil {
				return nil, err
			}
			vecs = append(vecs, v)
		}
		frames, err := zspace.Path(vecs, o.Steps, o.Method)
		if err != nil {
			return nil, usagef("--method: %v", err)
		}
		for _, f := range frames {
			z = append(z, f...)
		}
	}
	n := len(z) / m.Latent
	if nrow == 0 {
		nrow = n
	}
	return &interpPlan{m: m, format: format, z: z, mix: mix, n: n, nrow: nrow}, nil
}

// run generates the frames and writes the strip, grid or animation.
func (p *interpPlan) run(o *interpOptions) error {
	m, z, mix, n, nrow, format := p.m, p.z, p.mix, p.n, p.nrow, p.format
	var imgs []float32
	if mix != nil {
		s, err := gen.NewMixSampler(m, min(n, 256))
		if err != nil {
			return err
		}
		defer s.Close()
		imgs, err = s.GenerateMix(z, mix)
		if err != nil {
			return err
		}
	} else {
		var labels []int
		if m.Conditional {
			for i := 0; i < n; i++ {
				labels = append(labels, o.Class)
			}
		}
		s, err := gen.NewSampler(m, min(n, 256))
		if err != nil {
			return err
		}
		defer s.Close()
		if imgs, err = s.Generate(z, labels); err != nil {
			return err
		}
	}
	pix := m.C * m.H * m.W
	if format == "gif" {
		frames := make([]image.Image, n)
		delays := make([]int, n)
		for i := range frames {
			frames[i] = imgio.Scale(imgio.Single(imgs[i*pix:(i+1)*pix], m.C, m.H, m.W), o.Scale)
			delays[i] = o.Delay
		}
		delays[n-1] = 4 * o.Delay // rest on the last frame
		if err := o.writeOut(o.OutFile, func(w io.Writer) error { return imgio.EncodeGIF(w, frames, delays) }); err != nil {
			return err
		}
	} else {
		g, err := imgio.Grid(imgs, n, m.C, m.H, m.W, nrow)
		if err != nil {
			return err
		}
		img := imgio.Scale(g, o.Scale)
		if err := o.writeOut(o.OutFile, func(w io.Writer) error { return imgio.EncodePNG(w, img) }); err != nil {
			return err
		}
	}
	if o.OutFile != stdoutName {
		fmt.Fprintln(o.Out, o.OutFile)
	}
	return nil
}
