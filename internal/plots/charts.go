package plots

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/gantrain/gantrain/internal/imgio"
)

// Size of the PNG charts, in pixels, and their resolution.
const (
	Width  = 800
	Height = 450
	dpi    = 96
)

// maxPoints caps the points drawn per curve: a long run logs far more
// points than the chart has pixel columns, so longer series are reduced to
// the minimum and maximum of each of maxPoints/2 buckets, which looks the
// same at this resolution.
const maxPoints = 2000

// chunk is the most points stroked as one path: the rasterizer's time
// grows with the square of a path's length (2000 noisy points in one path
// take over a second, in chunks of 100 a twentieth of that).
const chunk = 100

var (
	sans = font.Font{Typeface: "Liberation", Variant: "Sans"}
	bold = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: 700}

	// Matplotlib's first colours, so the charts look familiar.
	blue   = color.RGBA{31, 119, 180, 255}
	orange = color.RGBA{255, 127, 14, 255}
	green  = color.RGBA{44, 160, 44, 255}
	red    = color.RGBA{214, 39, 40, 255}
	purple = color.RGBA{148, 103, 189, 255}
)

// curve is one line of a panel.
type curve struct {
	name  string
	key   string
	color color.Color
}

// panel describes one chart of a figure.
type panel struct {
	title, ylabel string
	curves        []curve
	markers       bool      // draw a dot at every point (sparse eval metrics)
	yInclude      []float64 // values the Y range includes whatever the data
	noXLabels     bool      // leave out the x tick labels and "step" (a panel above another)
}

// Losses draws loss_d and loss_g over step to a PNG at path (Width×Height).
// Below them it draws, for WGAN runs (rows with "em"), the Earth-Mover
// estimate, and otherwise, if the rows have them, the mean discriminator
// outputs D(x) and D(G(z)). Non-finite values are left out. The error wraps
// ErrNoData if no row has loss_d or loss_g.
func Losses(rows []map[string]float64, path string) error {
	top := panel{title: "Losses", ylabel: "loss", curves: []curve{
		{"D loss", "loss_d", blue}, {"G loss", "loss_g", orange}}}
	if !hasAny(rows, "loss_d", "loss_g") {
		return fmt.Errorf("plots: %s: no loss_d or loss_g in metrics: %w", path, ErrNoData)
	}
	panels := []panel{top}
	switch {
	case hasAny(rows, "em"):
		panels = append(panels, panel{title: "Earth-Mover estimate (WGAN critic)", ylabel: "C(x) − C(G(z))",
			curves: []curve{{"EM", "em", green}}})
	case hasAny(rows, "d_real", "d_fake"):
		panels = append(panels, panel{title: "Discriminator output", ylabel: "mean D", yInclude: []float64{0, 1},
			curves: []curve{{"D(x)", "d_real", purple}, {"D(G(z))", "d_fake", red}}})
	}
	if len(panels) == 2 {
		// One step axis, labelled once, under the bottom panel.
		panels[0].noXLabels = true
	}
	grid := make([][]*plot.Plot, len(panels))
	xmin, xmax := stepRange(rows)
	for i, pn := range panels {
		p, err := pn.plot(rows, xmin, xmax)
		if err != nil {
			return fmt.Errorf("plots: %s: %w", path, err)
		}
		grid[i] = []*plot.Plot{p}
	}
	return writePNG(path, grid)
}

// Metrics draws the evaluation metrics over step to a PNG at path
// (Width×Height): fcd, modes and, when present, kl_uniform,
// classifier_score and test_acc (a semi-supervised GAN's discriminator as
// a classifier), one panel each. The error wraps ErrNoData if no row
// has fcd.
func Metrics(rows []map[string]float64, path string) error {
	if !hasAny(rows, "fcd") {
		return fmt.Errorf("plots: %s: no fcd in metrics: %w", path, ErrNoData)
	}
	all := []panel{
		{title: "FCD (lower is better)", ylabel: "FCD", curves: []curve{{"", "fcd", blue}}},
		{title: "Modes covered", ylabel: "modes", yInclude: []float64{0}, curves: []curve{{"", "modes", orange}}},
		{title: "KL to uniform (lower is better)", ylabel: "KL", yInclude: []float64{0}, curves: []curve{{"", "kl_uniform", green}}},
		{title: "Classifier score", ylabel: "score", curves: []curve{{"", "classifier_score", purple}}},
		{title: "D's test accuracy (higher is better)", ylabel: "accuracy", curves: []curve{{"", "test_acc", blue}}},
	}
	var panels []panel
	for _, pn := range all {
		if hasAny(rows, pn.curves[0].key) {
			pn.markers = true
			panels = append(panels, pn)
		}
	}
	cols := min(len(panels), 2)
	grid := make([][]*plot.Plot, (len(panels)+cols-1)/cols)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, pn := range panels {
		for _, pt := range series(rows, pn.curves[0].key) {
			xmin, xmax = math.Min(xmin, pt.x), math.Max(xmax, pt.x)
		}
	}
	for i, pn := range panels {
		p, err := pn.plot(rows, xmin, xmax)
		if err != nil {
			return fmt.Errorf("plots: %s: %w", path, err)
		}
		grid[i/cols][i%cols] = p
	}
	return writePNG(path, grid)
}

// hasAny reports whether some row has a finite value for one of keys.
func hasAny(rows []map[string]float64, keys ...string) bool {
	for _, k := range keys {
		if len(series(rows, k)) > 0 {
			return true
		}
	}
	return false
}

// stepRange returns the smallest and largest step in rows.
func stepRange(rows []map[string]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, pt := range series(rows, "step") {
		lo, hi = math.Min(lo, pt.x), math.Max(hi, pt.x)
	}
	return lo, hi
}

// decimate reduces pts to at most n points: the minimum and maximum of
// each of n/2 buckets of consecutive points, in their order.
func decimate(pts []point, n int) []point {
	if len(pts) <= n {
		return pts
	}
	nb := n / 2
	out := make([]point, 0, n)
	for b := range nb {
		lo, hi := b*len(pts)/nb, (b+1)*len(pts)/nb
		imin, imax := lo, lo
		for i := lo + 1; i < hi; i++ {
			if pts[i].y < pts[imin].y {
				imin = i
			}
			if pts[i].y > pts[imax].y {
				imax = i
			}
		}
		out = append(out, pts[min(imin, imax)])
		if imin != imax {
			out = append(out, pts[max(imin, imax)])
		}
	}
	return out
}

// style returns a text style in the charts' font.
func style(f font.Font, size vg.Length) text.Style {
	return text.Style{Color: color.Black, Font: font.From(f, size), Handler: plot.DefaultTextHandler}
}

// plot builds the gonum plot of a panel over steps [xmin, xmax].
func (pn panel) plot(rows []map[string]float64, xmin, xmax float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.title
	p.Title.TextStyle = style(bold, 11)
	p.Title.TextStyle.XAlign = draw.XCenter
	p.Title.TextStyle.YAlign = draw.YTop
	p.Title.Padding = vg.Points(3)
	// Same alignments as gonum's defaults, smaller sans-serif text.
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(sans, 10)
		ax.Tick.Label.Font = font.From(sans, 9)
		ax.Tick.Length = vg.Points(4)
		ax.Padding = vg.Points(2)
	}
	p.Y.Label.Text = pn.ylabel
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	if pn.noXLabels {
		p.X.Tick.Marker = plainTicks{hideLabels: true}
	} else {
		p.X.Label.Text = "step"
	}
	if !math.IsInf(xmin, 0) && !math.IsInf(xmax, 0) {
		p.X.Min, p.X.Max = xmin, xmax
	}
	for _, y := range pn.yInclude {
		p.Y.Min, p.Y.Max = math.Min(p.Y.Min, y), math.Max(p.Y.Max, y)
	}

	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	p.Add(grid)

	leg := &legendBox{sty: style(sans, 9)}
	for _, c := range pn.curves {
		pts := decimate(series(rows, c.key), maxPoints)
		if len(pts) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(pts))
		for i, pt := range pts {
			xys[i].X, xys[i].Y = pt.x, pt.y
		}
		var thumbs []plot.Thumbnailer
		for lo := 0; lo == 0 || lo < len(xys)-1; lo += chunk {
			// Chunks share their end points, so the curve is unbroken.
			l, err := plotter.NewLine(xys[lo:min(len(xys), lo+chunk+1)])
			if err != nil {
				return nil, err
			}
			l.Color = c.color
			l.Width = vg.Points(1.2)
			p.Add(l)
			if lo == 0 {
				thumbs = append(thumbs, l)
			}
		}
		if pn.markers || len(pts) == 1 {
			s, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			s.GlyphStyle = draw.GlyphStyle{Color: c.color, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
			p.Add(s)
			thumbs = append(thumbs, s)
		}
		if c.name != "" {
			leg.entries = append(leg.entries, legendEntry{c.name, thumbs})
		}
	}
	if len(pn.curves) > 1 && len(leg.entries) > 0 {
		p.Add(leg)
	}
	return p, nil
}

// plainTicks is gonum's default ticker with its labels rewritten: steps
// print as 20000, not 2e+04, and other values with the fewest significant
// digits that tell the ticks apart (gonum can label 1.26 and 1.29 both
// "1.3"). With hideLabels the ticks have no labels.
type plainTicks struct{ hideLabels bool }

func (t plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	var major []int
	for i, tk := range ticks {
		if tk.Label != "" {
			major = append(major, i)
		}
	}
	if t.hideLabels {
		for _, i := range major {
			ticks[i].Label = ""
		}
		return ticks
	}
	integers := true
	gap := math.Inf(1)
	for k, i := range major {
		v := ticks[i].Value
		integers = integers && v == math.Trunc(v) && math.Abs(v) < 1e9
		if k > 0 {
			gap = math.Min(gap, v-ticks[major[k-1]].Value)
		}
	}
	if math.IsInf(gap, 1) {
		gap = hi - lo
	}
	if integers {
		for _, i := range major {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', 0, 64)
		}
		return ticks
	}
	for digits := 1; digits <= 17; digits++ {
		ok := true
		labels := make([]string, len(major))
		for k, i := range major {
			labels[k] = strconv.FormatFloat(ticks[i].Value, 'g', digits, 64)
			back, _ := strconv.ParseFloat(labels[k], 64)
			ok = ok && math.Abs(back-ticks[i].Value) <= gap*1e-3
		}
		if ok {
			for k, i := range major {
				ticks[i].Label = labels[k]
			}
			break
		}
	}
	return ticks
}

type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

// legendBox is a legend in the top right corner of the data area, on a
// white box so that curves do not run through its text. (plot.Legend has
// no background.) Added last, it is drawn over the curves.
type legendBox struct {
	sty     text.Style
	entries []legendEntry
}

func (b *legendBox) Plot(c draw.Canvas, _ *plot.Plot) {
	l := plot.NewLegend()
	l.TextStyle = b.sty
	l.Top = true
	l.ThumbnailWidth = vg.Points(16)
	var w, enth vg.Length
	for _, e := range b.entries {
		l.Add(e.name, e.thumbs...)
		r := b.sty.Rectangle(" " + e.name)
		w = max(w, l.ThumbnailWidth+r.Max.X)
		enth = max(enth, b.sty.Rectangle(e.name).Max.Y)
	}
	h := enth*vg.Length(len(b.entries)) + b.sty.FontExtents().Descent
	const inset, margin = vg.Length(4), vg.Length(4)
	box := vg.Rectangle{
		Min: vg.Point{X: c.Max.X - inset - w - 2*margin, Y: c.Max.Y - inset - h - 2*margin},
		Max: vg.Point{X: c.Max.X - inset, Y: c.Max.Y - inset},
	}
	c.SetColor(color.NRGBA{255, 255, 255, 220})
	c.Fill(box.Path())
	c.SetLineStyle(draw.LineStyle{Color: color.Gray{Y: 190}, Width: vg.Points(0.5)})
	c.Stroke(box.Path())
	inner := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: box.Min.X + margin, Y: box.Min.Y + margin},
		Max: vg.Point{X: box.Max.X - margin, Y: box.Max.Y - margin},
	}}
	l.Draw(inner)
}

// render draws a grid of plots (nil cells stay empty) on a Width×Height
// image.
func render(grid [][]*plot.Plot) image.Image {
	c := vgimg.NewWith(vgimg.UseImage(image.NewRGBA(image.Rect(0, 0, Width, Height))), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	tiles := draw.Tiles{
		Rows: len(grid), Cols: len(grid[0]),
		PadX: vg.Points(14), PadY: vg.Points(8),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(14),
	}
	canvases := plot.Align(grid, tiles, dc)
	for j, row := range grid {
		for i, p := range row {
			if p != nil {
				p.Draw(canvases[j][i])
			}
		}
	}
	return c.Image()
}

// writePNG renders grid and writes it atomically to path.
func writePNG(path string, grid [][]*plot.Plot) error {
	return imgio.WritePNG(path, render(grid))
}
