package plots

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantrain/gantrain/internal/imgio"
)

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadMetrics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	writeFile(t, path, `{"step":10,"epoch":0.1,"loss_d":1.3,"loss_g":0.7,"d_real":0.6,"d_fake":0.4,"imgs_per_s":900.5,"elapsed_s":1.2}
{"step":20,"loss_d":1.1,"loss_g":0.9,"em":0.25}

{"step":30,"fcd":12.5,"modes":9,"note":"text","extra":null,"nested":{"a":1}}
`)
	rows, err := ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3 (blank line skipped)", len(rows))
	}
	if rows[0]["step"] != 10 || rows[0]["imgs_per_s"] != 900.5 || len(rows[0]) != 8 {
		t.Errorf("row 0 = %v", rows[0])
	}
	if _, ok := rows[1]["d_real"]; ok || rows[1]["em"] != 0.25 {
		t.Errorf("row 1 = %v", rows[1])
	}
	if rows[2]["fcd"] != 12.5 || rows[2]["modes"] != 9 || len(rows[2]) != 3 {
		t.Errorf("row 2 = %v, want step, fcd and modes only", rows[2])
	}
}

func TestReadMetricsMalformed(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"truncated": "{\"step\":1,\"loss_d\":1}\n{\"step\":2,\"loss_d\":1}\n{\"step\":3,\"loss\n",
		"array":     "{\"step\":1}\n{\"step\":2}\n[1,2]\n",
		"null":      "{\"step\":1}\n\nnull\n",
		"nostep":    "{\"step\":1}\n{\"step\":2}\n{\"loss_d\":1}\n",
		"garbage":   "{\"step\":1}\n{\"step\":2}\n{\"step\":3} x\n",
	} {
		path := filepath.Join(dir, name+".jsonl")
		writeFile(t, path, content)
		_, err := ReadMetrics(path)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, path+":3:") || strings.Contains(msg, "\n") {
			t.Errorf("%s: error %q should name %s:3 on one line", name, msg, path)
		}
	}
	if _, err := ReadMetrics(filepath.Join(dir, "missing.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// fakeRows makes n metrics rows like a training run's: BCE (d_real/d_fake
// in [0, 1]) or WGAN (em), with fcd/modes every evalEvery rows if > 0.
func fakeRows(n int, wgan bool, evalEvery int) []map[string]float64 {
	rows := make([]map[string]float64, n)
	for i := range rows {
		s := float64((i + 1) * 10)
		r := map[string]float64{"step": s, "epoch": s / 600,
			"loss_d": 1.2 + 0.3*math.Sin(s/50), "loss_g": 0.8 + 0.5*math.Cos(s/70),
			"d_real": 0.6 + 0.1*math.Sin(s/30), "d_fake": 0.4 + 0.1*math.Cos(s/40),
			"imgs_per_s": 1000, "elapsed_s": s / 10}
		if wgan {
			r["loss_d"], r["loss_g"] = -2+math.Sin(s/50), 3+math.Cos(s/60)
			r["d_real"], r["d_fake"] = 5+math.Sin(s/20), 3+math.Cos(s/20)
			r["em"] = 2 + math.Sin(s/20) - math.Cos(s/20)
		}
		if evalEvery > 0 && (i+1)%evalEvery == 0 {
			r["fcd"] = 100 / (1 + s/100)
			r["modes"] = math.Min(10, 3+s/100)
			r["kl_uniform"] = 1 / (1 + s/100)
		}
		rows[i] = r
	}
	return rows
}

// decodeFile decodes the file at path with decode.
func decodeFile[T any](t *testing.T, path string, decode func(io.Reader) (T, error)) T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func checkPNG(t *testing.T, path string) image.Image {
	t.Helper()
	img := decodeFile(t, path, png.Decode)
	if b := img.Bounds(); b.Dx() < 700 || b.Dx() > 900 || b.Dy() < 400 || b.Dy() > 600 {
		t.Errorf("%s is %dx%d, want about 800x450", path, b.Dx(), b.Dy())
	}
	// Something was drawn: not a blank image, and some coloured pixels
	// (the curves).
	var dark, coloured int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0x8000 && g < 0x8000 && bl < 0x8000 {
				dark++
			}
			if max(r, g, bl)-min(r, g, bl) > 0x4000 {
				coloured++
			}
		}
	}
	if dark < 200 || coloured < 40 {
		t.Errorf("%s: %d dark and %d coloured pixels: text or curves missing", path, dark, coloured)
	}
	return img
}

func TestLosses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		rows []map[string]float64
	}{
		{"bce", fakeRows(300, false, 0)},
		{"wgan", fakeRows(300, true, 0)},
		{"losses-only", []map[string]float64{{"step": 1, "loss_d": 1}, {"step": 2, "loss_d": 0.9, "loss_g": 2}}},
		{"one-row", []map[string]float64{{"step": 5, "loss_d": 1, "loss_g": 2, "d_real": 0.5, "d_fake": 0.5}}},
		{"nan", []map[string]float64{{"step": 1, "loss_d": 1, "loss_g": math.NaN()}, {"step": 2, "loss_d": math.Inf(1), "loss_g": 2}, {"step": 3, "loss_d": 0.5, "loss_g": 1}}},
		{"long", fakeRows(20000, false, 0)},
	} {
		path := filepath.Join(dir, tc.name+".png")
		if err := Losses(tc.rows, path); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkPNG(t, path)
	}
	err := Losses([]map[string]float64{{"step": 1, "fcd": 3}}, filepath.Join(dir, "none.png"))
	if !errors.Is(err, ErrNoData) {
		t.Errorf("no losses: %v, want ErrNoData", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.png")); !os.IsNotExist(err) {
		t.Errorf("none.png written without data")
	}
}

func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	rows := fakeRows(200, false, 20)
	for _, tc := range []struct {
		name string
		rows []map[string]float64
	}{
		{"three", rows},
		{"fcd-only", []map[string]float64{{"step": 100, "fcd": 50}, {"step": 200, "fcd": 30}, {"step": 300, "fcd": 20}}},
		{"one", []map[string]float64{{"step": 100, "fcd": 50, "modes": 7}}},
		{"four", append(fakeRows(50, true, 10), map[string]float64{"step": 1000, "fcd": 3, "classifier_score": 8.5})},
		{"five", append(fakeRows(50, true, 10), map[string]float64{"step": 1000, "fcd": 3, "classifier_score": 8.5, "test_acc": 0.97})},
	} {
		path := filepath.Join(dir, tc.name+".png")
		if err := Metrics(tc.rows, path); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkPNG(t, path)
	}
	err := Metrics(fakeRows(50, true, 0), filepath.Join(dir, "none.png"))
	if !errors.Is(err, ErrNoData) {
		t.Errorf("no fcd: %v, want ErrNoData", err)
	}
	if err := Metrics(nil, filepath.Join(dir, "none.png")); !errors.Is(err, ErrNoData) {
		t.Errorf("no rows: %v, want ErrNoData", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.png")); !os.IsNotExist(err) {
		t.Errorf("none.png written without data")
	}
}

// writeGrid writes a w×h gray PNG whose pixels are all level v.
func writeGrid(t *testing.T, path string, w, h int, v uint8) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v + uint8(i%7)
	}
	if err := imgio.WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
}

func readGIF(t *testing.T, path string) *gif.GIF {
	t.Helper()
	return decodeFile(t, path, gif.DecodeAll)
}

func TestProgressGIF(t *testing.T) {
	dir := t.TempDir()
	// Steps out of lexicographic order, and files that are not frames.
	for i, step := range []int{1000000, 50, 400} {
		writeGrid(t, filepath.Join(dir, fmt.Sprintf("step-%06d.png", step)), 10, 6, uint8(50*i))
	}
	writeFile(t, filepath.Join(dir, "step-x.png"), "not a png")
	writeFile(t, filepath.Join(dir, ".step-000100.png.tmp-123"), "partial")
	out := filepath.Join(dir, "progress.gif")
	if err := ProgressGIF(dir, out, 150*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	g := readGIF(t, out)
	if len(g.Image) != 3 {
		t.Fatalf("%d frames, want 3", len(g.Image))
	}
	if g.LoopCount != 0 {
		t.Errorf("LoopCount = %d, want 0 (forever)", g.LoopCount)
	}
	if want := []int{15, 15, 200}; fmt.Sprint(g.Delay) != fmt.Sprint(want) {
		t.Errorf("delays %v, want %v", g.Delay, want)
	}
	// Frames in step order: 50 (level 50), 400 (level 100), 1000000 (level 0).
	for i, level := range []uint8{50, 100, 0} {
		fr := g.Image[i]
		if b := fr.Bounds(); b.Dx() != 10 || b.Dy() != 6 {
			t.Errorf("frame %d is %v", i, b)
		}
		if len(fr.Palette) != 256 {
			t.Errorf("frame %d: %d colours", i, len(fr.Palette))
		}
		for k, c := range fr.Palette {
			r, gg, b, _ := c.RGBA()
			if r != gg || gg != b || r>>8 != uint32(k) {
				t.Fatalf("frame %d: palette[%d] = %v, want gray %d", i, k, c, k)
			}
		}
		if got := color.GrayModel.Convert(fr.At(3, 0)).(color.Gray).Y; got != level+3 {
			t.Errorf("frame %d: pixel level %d, want %d", i, got, level+3)
		}
	}

	// Sizes that differ.
	writeGrid(t, filepath.Join(dir, "step-000500.png"), 12, 6, 0)
	err := ProgressGIF(dir, out, 0)
	if err == nil || !strings.Contains(err.Error(), "same size") || !strings.Contains(err.Error(), "step-000500.png") {
		t.Errorf("mismatched sizes: %v", err)
	}

	// No frames.
	empty := t.TempDir()
	err = ProgressGIF(empty, filepath.Join(empty, "p.gif"), 0)
	if !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), empty) {
		t.Errorf("no frames: %v", err)
	}
	if _, err := os.Stat(filepath.Join(empty, "p.gif")); !os.IsNotExist(err) {
		t.Errorf("GIF written without frames")
	}
}

func TestPick(t *testing.T) {
	var frames []sampleFrame
	for i := range 1000 {
		frames = append(frames, sampleFrame{step: i})
	}
	for _, n := range []int{1000, 999, 200, 2, 1} {
		got := pick(frames, n)
		if len(got) != n || got[len(got)-1].step != 999 || (n > 1 && got[0].step != 0) {
			t.Fatalf("pick %d: %d frames, first %d last %d", n, len(got), got[0].step, got[len(got)-1].step)
		}
		for i := 1; i < len(got); i++ {
			if got[i].step <= got[i-1].step {
				t.Fatalf("pick %d: not increasing at %d", n, i)
			}
		}
	}
	if got := pick(frames[:5], 200); len(got) != 5 {
		t.Errorf("pick from 5: %d", len(got))
	}
}

func TestProgressGIFMaxFrames(t *testing.T) {
	dir := t.TempDir()
	for step := range MaxFrames + 50 {
		writeGrid(t, filepath.Join(dir, fmt.Sprintf("step-%06d.png", step)), 4, 4, uint8(step))
	}
	out := filepath.Join(t.TempDir(), "p.gif")
	if err := ProgressGIF(dir, out, time.Second); err != nil {
		t.Fatal(err)
	}
	g := readGIF(t, out)
	if len(g.Image) != MaxFrames {
		t.Fatalf("%d frames, want %d", len(g.Image), MaxFrames)
	}
	if first, last := g.Image[0].Pix[0], g.Image[MaxFrames-1].Pix[0]; first != 0 || last != uint8(MaxFrames+49) {
		t.Errorf("first frame level %d, last %d: want the first and last grids", first, last)
	}
	if d := g.Delay[MaxFrames-1]; d != 400 {
		t.Errorf("last delay %d, want 4 s", d)
	}
}

func TestAll(t *testing.T) {
	run := t.TempDir()
	var lines []string
	for i, r := range fakeRows(100, true, 25) {
		if i == 50 {
			lines = append(lines, "") // what train writes when a value is NaN
		}
		var parts []string
		for k, v := range r {
			parts = append(parts, fmt.Sprintf("%q:%v", k, v))
		}
		lines = append(lines, "{"+strings.Join(parts, ",")+"}")
	}
	writeFile(t, filepath.Join(run, "metrics.jsonl"), strings.Join(lines, "\n")+"\n")
	if err := os.Mkdir(filepath.Join(run, "samples"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, step := range []int{100, 200} {
		writeGrid(t, filepath.Join(run, "samples", fmt.Sprintf("step-%06d.png", step)), 8, 8, 10)
	}
	files, err := All(run)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(run, "plots", "losses.png"), filepath.Join(run, "plots", "metrics.png"),
		filepath.Join(run, "samples", "progress.gif")}
	if fmt.Sprint(files) != fmt.Sprint(want) {
		t.Errorf("All wrote %v, want %v", files, want)
	}
	checkPNG(t, want[0])
	checkPNG(t, want[1])
	if g := readGIF(t, want[2]); len(g.Image) != 2 {
		t.Errorf("progress.gif: %d frames", len(g.Image))
	}
	// Again: progress.gif in samples/ is not taken for a frame.
	if _, err := All(run); err != nil {
		t.Fatal(err)
	}

	// Without eval metrics, metrics.png is skipped.
	bare := t.TempDir()
	writeFile(t, filepath.Join(bare, "metrics.jsonl"), `{"step":1,"loss_d":1,"loss_g":2}`+"\n")
	files, err = All(bare)
	if err != nil || len(files) != 1 || filepath.Base(files[0]) != "losses.png" {
		t.Errorf("All without eval metrics or samples: %v, %v", files, err)
	}

	// Nothing to plot.
	if _, err := All(t.TempDir()); !errors.Is(err, ErrNoData) {
		t.Errorf("empty run dir: %v, want ErrNoData", err)
	}
	// A malformed metrics.jsonl is an error.
	writeFile(t, filepath.Join(bare, "metrics.jsonl"), "{\n")
	if _, err := All(bare); err == nil || !strings.Contains(err.Error(), "metrics.jsonl:1:") {
		t.Errorf("malformed metrics.jsonl: %v", err)
	}
	if _, err := All(filepath.Join(bare, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing run dir: %v", err)
	}
}

// TestView writes the charts to $PLOTS_VIEW_DIR for a look; skipped
// otherwise.
func TestView(t *testing.T) {
	dir := os.Getenv("PLOTS_VIEW_DIR")
	if dir == "" {
		t.Skip("PLOTS_VIEW_DIR not set")
	}
	for name, f := range map[string]func() error{
		"bce.png":      func() error { return Losses(fakeRows(500, false, 0), filepath.Join(dir, "bce.png")) },
		"wgan.png":     func() error { return Losses(fakeRows(500, true, 0), filepath.Join(dir, "wgan.png")) },
		"metrics.png":  func() error { return Metrics(fakeRows(500, false, 50), filepath.Join(dir, "metrics.png")) },
		"metrics2.png": func() error { return Metrics(fakeRows(50, false, 5)[:0:0], filepath.Join(dir, "x.png")) },
		"metrics4.png": func() error {
			return Metrics(append(fakeRows(500, false, 50), map[string]float64{"step": 5000, "classifier_score": 8}), filepath.Join(dir, "metrics4.png"))
		},
		"fcdmodes.png": func() error {
			return Metrics(stripKeys(fakeRows(500, false, 50), "kl_uniform"), filepath.Join(dir, "fcdmodes.png"))
		},
		"onlyloss.png": func() error {
			return Losses(stripKeys(fakeRows(500, false, 0), "d_real", "d_fake"), filepath.Join(dir, "onlyloss.png"))
		},
		"bigsteps.png": func() error { return Losses(fakeRows(20000, false, 0), filepath.Join(dir, "bigsteps.png")) },
		"onepoint.png": func() error { return Losses(fakeRows(1, false, 0), filepath.Join(dir, "onepoint.png")) },
		"wgan-few.png": func() error { return Losses(fakeRows(3, true, 0), filepath.Join(dir, "wgan-few.png")) },
		"metrics1.png": func() error { return Metrics(fakeRows(50, false, 50), filepath.Join(dir, "metrics1.png")) },
		"metricsfc.png": func() error {
			return Metrics(stripKeys(fakeRows(500, false, 50), "kl_uniform", "modes"), filepath.Join(dir, "metricsfc.png"))
		},
	} {
		if err := f(); err != nil && !errors.Is(err, ErrNoData) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func stripKeys(rows []map[string]float64, keys ...string) []map[string]float64 {
	for _, r := range rows {
		for _, k := range keys {
			delete(r, k)
		}
	}
	return rows
}

func TestPlainTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   []string
	}{
		{1.2596, 1.2949, []string{"1.26", "1.27", "1.28", "1.29"}},
		{10, 200000, []string{"40000", "120000", "200000"}},
		{-2.9, 3.9, []string{"-2.5", "0", "2.5"}},
	} {
		var got []string
		for _, tk := range (plainTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ticks of [%g, %g]: %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
		for _, tk := range (plainTicks{hideLabels: true}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				t.Errorf("hidden labels: %q", tk.Label)
			}
		}
	}
}

func TestDecimate(t *testing.T) {
	pts := make([]point, 10000)
	for i := range pts {
		pts[i] = point{float64(i), math.Sin(float64(i))}
	}
	pts[1234].y, pts[7777].y = 5, -5
	got := decimate(pts, 1000)
	if len(got) > 1000 || len(got) < 900 {
		t.Fatalf("%d points", len(got))
	}
	var hi, lo bool
	for i, p := range got {
		hi = hi || p == point{1234, 5}
		lo = lo || p == point{7777, -5}
		if i > 0 && p.x <= got[i-1].x {
			t.Fatalf("not in order at %d", i)
		}
	}
	if !hi || !lo {
		t.Errorf("decimation lost the extremes")
	}
	if got := decimate(pts[:10], 1000); len(got) != 10 {
		t.Errorf("short series changed")
	}
}

// A grid that is not stored as 8-bit gray is converted.
func TestProgressGIFColourPNG(t *testing.T) {
	dir := t.TempDir()
	writeGrid(t, filepath.Join(dir, "step-000001.png"), 5, 4, 10)
	img := image.NewNRGBA(image.Rect(0, 0, 5, 4))
	for i := range img.Pix {
		img.Pix[i] = 200
		if i%4 == 3 {
			img.Pix[i] = 255 // opaque
		}
	}
	if err := imgio.WritePNG(filepath.Join(dir, "step-000002.png"), img); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "p.gif")
	if err := ProgressGIF(dir, out, 0); err != nil {
		t.Fatal(err)
	}
	g := readGIF(t, out)
	if len(g.Image) != 2 || g.Delay[0] != 20 || g.Delay[1] != 200 {
		t.Fatalf("%d frames, delays %v", len(g.Image), g.Delay)
	}
	// A colour grid keeps its colour: the nearest of the GIF palette.
	r, gg, b, _ := g.Image[1].Palette[g.Image[1].Pix[0]].RGBA()
	for _, v := range []uint32{r >> 8, gg >> 8, b >> 8} {
		if v < 190 || v > 210 {
			t.Errorf("second frame pixel (%d, %d, %d), want about (200, 200, 200)", r>>8, gg>>8, b>>8)
			break
		}
	}
}
