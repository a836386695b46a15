//go:build ignore

// handover-plot draws the losses of runs handed from gantrain to PyTorch
// and back (gantrain export, train.py, gantrain import): loss_d and loss_g
// against the step, gantrain's steps and PyTorch's in two colours, a
// dashed line at the hand-over; optionally, in gray, the same run resumed
// in gantrain instead (CONTROL, a run directory). One panel per run.
//
//	go run scripts/handover-plot.go -out docs/images/handover.png TITLE=RUN:STEP[:CONTROL] ...
package main

import (
	"flag"
	"fmt"
	"image/color"
	"log"
	"os"
	"strconv"
	"strings"

	"github.com/gantrain/gantrain/internal/plots"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func main() {
	out := flag.String("out", "handover.png", "output PNG")
	flag.Parse()
	if flag.NArg() == 0 {
		log.Fatal("usage: handover-plot -out FILE TITLE=RUN:STEP ...")
	}
	var ps []*plot.Plot
	for _, arg := range flag.Args() {
		title, rest, ok1 := strings.Cut(arg, "=")
		run, s, ok2 := strings.Cut(rest, ":")
		s, control, _ := strings.Cut(s, ":")
		step, err := strconv.ParseFloat(s, 64)
		if !ok1 || !ok2 || err != nil {
			log.Fatalf("%q: want TITLE=RUN:STEP", arg)
		}
		rows, err := plots.ReadMetrics(run + "/metrics.jsonl")
		if err != nil {
			log.Fatal(err)
		}
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "step"
		p.Y.Label.Text = "loss"
		lo, hi := 1e9, -1e9
		for _, key := range []string{"loss_d", "loss_g"} {
			for i, part := range []string{"gantrain", "PyTorch"} {
				var xy plotter.XYs
				for _, r := range rows {
					v, ok := r[key]
					if !ok || (i == 0) != (r["step"] <= step) {
						continue
					}
					// PyTorch's part starts at the hand-over point, so the curve is one line.
					xy = append(xy, plotter.XY{X: r["step"], Y: v})
					lo, hi = min(lo, v), max(hi, v)
				}
				if i == 1 {
					for _, r := range rows {
						if r["step"] == step {
							xy = append(plotter.XYs{{X: step, Y: r[key]}}, xy...)
						}
					}
				}
				l, err := plotter.NewLine(xy)
				if err != nil {
					log.Fatal(err)
				}
				l.Color = map[string]color.Color{"gantrain": color.RGBA{31, 119, 180, 255}, "PyTorch": color.RGBA{214, 39, 40, 255}}[part]
				if key == "loss_g" {
					l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
				}
				l.Width = vg.Points(1.2)
				p.Add(l)
				p.Legend.Add(fmt.Sprintf("%s (%s)", key, part), l)
			}
		}
		if control != "" {
			crows, err := plots.ReadMetrics(control + "/metrics.jsonl")
			if err != nil {
				log.Fatal(err)
			}
			for _, key := range []string{"loss_d", "loss_g"} {
				var xy plotter.XYs
				for _, r := range crows {
					if r["step"] >= step && r["step"] <= hi0(rows) {
						xy = append(xy, plotter.XY{X: r["step"], Y: r[key]})
					}
				}
				l, err := plotter.NewLine(xy)
				if err != nil {
					log.Fatal(err)
				}
				l.Color = color.Gray{170}
				if key == "loss_g" {
					l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
				}
				p.Add(l)
				p.Legend.Add(key+" (gantrain resumed)", l)
			}
		}
		v, _ := plotter.NewLine(plotter.XYs{{X: step, Y: lo}, {X: step, Y: hi}})
		v.Color = color.Gray{120}
		v.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(v)
		p.Legend.Top = true
		p.Y.Min, p.Y.Max = 0, hi*1.75 // room for the legend
		ps = append(ps, p)
	}
	w, h := vg.Length(len(ps))*4.5*vg.Inch, 3.2*vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(ps), PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	grid := [][]*plot.Plot{ps}
	canvases := plot.Align(grid, tiles, dc)
	for j, p := range ps {
		p.Draw(canvases[0][j])
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// hi0 is the last step of rows.
func hi0(rows []map[string]float64) float64 {
	hi := 0.0
	for _, r := range rows {
		hi = max(hi, r["step"])
	}
	return hi
}
