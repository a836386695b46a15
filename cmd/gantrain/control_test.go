package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/npy"
)

// writeNpyF64 writes a float64 .npy vector (a dtype gantrain refuses).
func writeNpyF64(t *testing.T, path string, v []float64) {
	t.Helper()
	h := "{'descr': '<f8', 'fortran_order': False, 'shape': (" + itoa(len(v)) + ",), }"
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	b = append(b, h...)
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestControlAndDirections(t *testing.T) {
	// A run whose data is called mnist has the evaluation classifier.
	run := filepath.Join(t.TempDir(), "dcgan")
	if code, _, errOut := gantrain(t, tinyArgs(run, 2, "--set", "data.name=mnist", "--set", "eval.every=0")...); code != 0 {
		t.Fatalf("training: %s", errOut)
	}
	tmp := t.TempDir()
	p := func(name string) string { return filepath.Join(tmp, name) }

	code, out, errOut := gantrain(t, "control", "--run", run, "--feature", "slant", "--keep", "--n", "3", "--steps", "2", "--out", p("s.npy"))
	if code != 0 {
		t.Fatalf("control: %s", errOut)
	}
	a, err := npy.ReadFloat32File(p("s.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{3, 3, 1, 28, 28}; len(a.Shape) != 5 || a.Shape[0] != 3 || a.Shape[1] != 3 || a.Shape[4] != 28 {
		t.Fatalf("npy shape %v, want %v", a.Shape, want)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	var scores []float64
	for k := 0; sc.Scan(); k++ {
		var line controlLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("stdout line %d: %v: %s", k, err, sc.Text())
		}
		if line.Step != k || line.SameClass == nil || math.Abs(line.ZNorm-10) > 3 {
			t.Errorf("line %d: %+v", k, line)
		}
		scores = append(scores, line.Score)
	}
	if len(scores) != 3 {
		t.Fatalf("%d JSON lines, want 3 (steps 0..2):\n%s", len(scores), out)
	}
	if !(scores[2] > scores[0]) {
		t.Errorf("mean slant went from %v to %v, want a rise", scores[0], scores[2])
	}
	if !strings.Contains(errOut, "slant rose in") {
		t.Errorf("no summary on stderr: %q", errOut)
	}

	// --z: the vectors sample saved give the same walk as their seed.
	mustRun(t, "sample", "--run", run, "--n", "3", "--out", p("s.png"), "--save-z", p("z.npy"))
	mustRun(t, "control", "--run", run, "--z", p("z.npy"), "--feature", "slant", "--keep", "--steps", "2", "--out", p("sz.npy"))
	if !bytes.Equal(read(t, p("s.npy")), read(t, p("sz.npy"))) {
		t.Error("control --z with the vectors of --seed 1 --n 3 differs from control --seed 1 --n 3")
	}
	mustRun(t, "control", "--run", run, "--feature", "class:7", "--decrease", "--n", "2", "--steps", "1", "--out", p("c.png"))
	mustRun(t, "control", "--run", run, "--feature", "ink", "--n", "2", "--steps", "2", "--out", p("i.gif"))

	// Directions.
	code, out, errOut = gantrain(t, "directions", "--run", run, "--feature", "ink", "--samples", "500", "--out", p("ink.npy"))
	if code != 0 {
		t.Fatalf("directions: %s", errOut)
	}
	var rep directionReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Along) != 5 || rep.Heldout != 100 {
		t.Fatalf("directions report %q: %v", out, err)
	}
	d, err := npy.ReadFloat32File(p("ink.npy"))
	if err != nil || len(d.Shape) != 1 || d.Shape[0] != 100 {
		t.Fatalf("direction file: %v %v", d, err)
	}
	mustRun(t, "directions", "--run", run, "--unsupervised", "3", "--out", p("sefa.npy"))
	s, err := npy.ReadFloat32File(p("sefa.npy"))
	if err != nil || len(s.Shape) != 2 || s.Shape[0] != 3 || s.Shape[1] != 100 {
		t.Fatalf("SeFa file: %v %v", s.Shape, err)
	}
	if w, h := pngSize(t, p("sefa.png")); w != 9*30+2 || h != 3*30+2 { // 28-pixel images, 2-pixel borders
		t.Errorf("SeFa grid %d×%d, want %d×%d", w, h, 9*30+2, 3*30+2)
	}
	// A saved direction drives interpolate, as a flag and in an expression.
	mustRun(t, "interpolate", "--run", run, "--from", "5", "--dir", p("ink.npy"), "--out", p("walk.png"))
	mustRun(t, "interpolate", "--run", run, "--expr", "s5 + 2*dir("+p("sefa.npy")+", 2)", "--out", p("expr.png"))

	// Bad input: one line, exit 2, nothing written.
	idxRun := tinyRun(t, "dcgan") // data.name idx: no classifier
	writeNpyF64(t, p("f64.npy"), make([]float64, 100))
	if err := npy.WriteFloat32File(p("short.npy"), []int{7}, make([]float32, 7)); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, tmp)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"control", "--run", run, "--feature", "fatness", "--out", p("x.png")}, "known: ink, thickness, slant, size, x, y, brightness, red, green, blue, class:NAME"},
		{[]string{"control", "--run", run, "--feature", "red", "--out", p("x.png")}, "needs colour images"},
		{[]string{"control", "--run", run, "--feature", "ink", "--steps", "0", "--out", p("x.png")}, "--steps must be in 1..1000"},
		{[]string{"control", "--run", run, "--feature", "ink", "--steps", "-3", "--out", p("x.png")}, "--steps must be in 1..1000"},
		{[]string{"control", "--run", run, "--feature", "ink", "--rate", "NaN", "--out", p("x.png")}, "--rate must be a positive number, got NaN"},
		{[]string{"control", "--run", run, "--feature", "ink", "--rate", "-0.5", "--out", p("x.png")}, "--rate must be a positive number"},
		{[]string{"control", "--run", run, "--feature", "ink", "--out", p("x.jpg")}, "name the file .png, .gif, .npy"},
		{[]string{"control", "--run", run, "--feature", "ink", "--out", p("nodir/x.png")}, "does not exist"},
		{[]string{"control", "--run", idxRun, "--feature", "class:3", "--out", p("x.png")}, "no classifier"},
		{[]string{"control", "--run", run, "--feature", "ink", "--z", p("z.npy"), "--n", "5", "--out", p("x.png")}, "--n 5 but --z"},
		{[]string{"control", "--run", run, "--feature", "ink", "--z", p("f64.npy"), "--out", p("x.png")}, "dtype <f8"},
		{[]string{"directions", "--run", idxRun, "--feature", "class:3", "--out", p("x.npy")}, "no classifier"},
		{[]string{"directions", "--run", run, "--out", p("x.npy")}, "give one of --feature F or --unsupervised K"},
		{[]string{"directions", "--run", run, "--unsupervised", "101", "--out", p("x.npy")}, "the latent space has 100 dimensions"},
		{[]string{"interpolate", "--run", run, "--from", "5", "--dir", p("f64.npy"), "--out", p("x.png")}, "dtype <f8 (float64), want <f4 (float32)"},
		{[]string{"interpolate", "--run", run, "--from", "5", "--dir", p("short.npy"), "--out", p("x.png")}, "has rows of 7 values, the generator's latent size is 100"},
		{[]string{"interpolate", "--run", run, "--expr", "s1 + dir(" + p("short.npy") + ")", "--out", p("x.png")}, "has rows of 7 values"},
	} {
		code, _, errOut := gantrain(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("gantrain %s: exit %d, stderr %q; want exit 2 and one line containing %q", strings.Join(c.args[:5], " "), code, errOut, c.want)
		}
	}
	if diff := diffSnapshots(before, snapshot(t, tmp)); len(diff) > 0 {
		t.Errorf("bad input changed files: %v", diff)
	}
}

// TestControlCGANKeepsTheClass: for a conditional model every column of a
// row is drawn with the row's class; step 0 is what sample draws for it.
func TestControlCGANKeepsTheClass(t *testing.T) {
	run := tinyRun(t, "cgan")
	tmp := t.TempDir()
	mustRun(t, "control", "--run", run, "--feature", "size", "--class", "4", "--n", "2", "--steps", "1", "--out", filepath.Join(tmp, "c.npy"))
	mustRun(t, "sample", "--run", run, "--class", "4", "--n", "2", "--out", filepath.Join(tmp, "s.npy"))
	c, err := npy.ReadFloat32File(filepath.Join(tmp, "c.npy"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := npy.ReadFloat32File(filepath.Join(tmp, "s.npy"))
	if err != nil {
		t.Fatal(err)
	}
	const pix = 784
	for r := 0; r < 2; r++ {
		got := c.Data[r*2*pix : r*2*pix+pix] // row r, step 0
		want := s.Data[r*pix : (r+1)*pix]
		worst := 0.0
		for i := range got {
			worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
		}
		if worst > 1e-5 {
			t.Errorf("row %d step 0 differs from sample --class 4 by %g", r, worst)
		}
	}
	if code, _, errOut := gantrain(t, "control", "--run", run, "--feature", "size", "--class", "12", "--out", filepath.Join(tmp, "x.npy")); code != 2 || !strings.Contains(errOut, "classes 0..9") {
		t.Errorf("--class 12: exit %d, %q", code, errOut)
	}
}
