package main

import (
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// imageFolder writes n PNG images of side px per class (RGB if colour, else
// gray) and returns the folder.
func imageFolder(t *testing.T, classes []string, n, px int, colour bool) string {
	t.Helper()
	dir := t.TempDir()
	for ci, c := range classes {
		if err := os.MkdirAll(filepath.Join(dir, c), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			var img image.Image
			if colour {
				rgb := image.NewRGBA(image.Rect(0, 0, px, px))
				for p := 0; p < len(rgb.Pix); p += 4 {
					rgb.Pix[p], rgb.Pix[p+1], rgb.Pix[p+2], rgb.Pix[p+3] = uint8(40*ci), uint8(10*i), 200, 255
				}
				img = rgb
			} else {
				g := image.NewGray(image.Rect(0, 0, px, px))
				for p := range g.Pix {
					g.Pix[p] = uint8((p*7 + 30*ci + i) % 256)
				}
				img = g
			}
			f, err := os.Create(filepath.Join(dir, c, "img"+itoa(i)+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	return dir
}

func TestDataCommand(t *testing.T) {
	dir := imageFolder(t, []string{"b-dogs", "a-cats"}, 6, 20, true)
	if err := os.WriteFile(filepath.Join(dir, "a-cats", "broken.png"), []byte("no"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache, grid := filepath.Join(t.TempDir(), "cache"), filepath.Join(t.TempDir(), "grid.png")
	code, out, errOut := gantrain(t, "data", "--set", "data.name=folder", "--set", "data.path="+dir,
		"--set", "data.cache="+cache, "--set", "train.batch_size=4", "--out", grid, "--per-row", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got dataSummary
	if err := json.Unmarshal([]byte(out), &got); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("stdout %q is not one JSON line: %v", out, err)
	}
	if got.Images != 12 || !slices.Equal(got.Classes, []string{"a-cats", "b-dogs"}) || !slices.Equal(got.Counts, []int{6, 6}) ||
		got.Size != 20 || got.Channels != 3 || got.Skipped != 1 || !strings.HasPrefix(got.Cache, cache) || got.Grid != grid {
		t.Errorf("summary %+v", got)
	}
	if _, err := os.Stat(got.Cache); err != nil {
		t.Errorf("cache file: %v", err)
	}
	if !strings.Contains(errOut, "a-cats/broken.png") {
		t.Errorf("stderr does not name the skipped file: %q", errOut)
	}
	// One row per class, 5 per row; 20 px images repeated ×3 = 60, 2 px gaps.
	if w, h := pngSize(t, grid); w != 5*62+2 || h != 2*62+2 {
		t.Errorf("grid is %d×%d, want %d×%d", w, h, 5*62+2, 2*62+2)
	}

	code, out, _ = gantrain(t, "data", "--set", "data.name=idx", "--set", "data.path="+tinyData)
	if code != 0 || !strings.Contains(out, `"images":320`) || !strings.Contains(out, `"classes":["0","1","2","3","4","5","6","7","8","9"]`) ||
		!strings.Contains(out, `"size":28,"channels":1,"skipped":0,"cache":""`) {
		t.Errorf("idx: exit %d, %q", code, out)
	}
}

// The data command and train refuse what they cannot do before writing.
func TestDataRefusals(t *testing.T) {
	colour := imageFolder(t, []string{"x"}, 4, 12, true)
	gray := imageFolder(t, []string{"x"}, 4, 28, false)
	tmp := t.TempDir()
	runDir := filepath.Join(tmp, "run")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"grid into the data folder", []string{"data", "--set", "data.name=folder", "--set", "data.path=" + colour, "--set", "train.batch_size=2", "--set", "data.cache=" + filepath.Join(tmp, "c"), "--out", filepath.Join(colour, "grid.png")}, []string{"inside the data folder", "never writes"}},
		{"grid to stdout", []string{"data", "--set", "data.name=folder", "--set", "data.path=" + colour, "--set", "train.batch_size=2", "--set", "data.cache=" + filepath.Join(tmp, "c"), "--out", "-"}, []string{"--out -", "JSON"}},
		{"grid folder missing", []string{"data", "--set", "data.name=folder", "--set", "data.path=" + colour, "--set", "train.batch_size=2", "--set", "data.cache=" + filepath.Join(tmp, "c"), "--out", filepath.Join(tmp, "no", "g.png")}, []string{"does not exist"}},
		{"train on 12 px colour", []string{"train", "--set", "data.name=folder", "--set", "data.path=" + colour, "--set", "train.batch_size=2", "--set", "data.cache=" + filepath.Join(tmp, "c"), "--set", "output.dir=" + runDir}, []string{colour, "3×12×12", "16, 28, 32, 64", "set data.size"}},
		{"cgan on unlabelled data", []string{"train", "--set", "model=cgan", "--set", "data.name=folder", "--set", "data.path=" + filepath.Join(gray, "x"), "--set", "train.batch_size=2", "--set", "data.cache=" + filepath.Join(tmp, "c"), "--set", "output.dir=" + runDir}, []string{"unlabelled", "cgan", "needs labels"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, colour)
			code, out, errOut := gantrain(t, tc.args...)
			if code != 2 || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			msg := strings.TrimSpace(errOut[strings.LastIndex(strings.TrimSpace(errOut), "\n")+1:])
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if d := diffSnapshots(before, snapshot(t, colour)); len(d) > 0 {
				t.Errorf("the data folder changed: %v", d)
			}
			if _, err := os.Stat(runDir); err == nil {
				t.Error("the run directory was created")
			}
		})
	}
}

// Training on a labelled folder records the class names, and sample takes
// them for --class.
func TestTrainOnFolderSampleByName(t *testing.T) {
	dir := imageFolder(t, []string{"cats", "dogs"}, 4, 28, false)
	run := filepath.Join(t.TempDir(), "run")
	code, _, errOut := gantrain(t, "train", "--config", "../../configs/cgan.yaml", "--set", "data.name=folder", "--set", "data.path="+dir,
		"--set", "data.flip=true", "--set", "data.cache="+filepath.Join(t.TempDir(), "c"),
		"--set", "train.batch_size=4", "--set", "train.steps=2", "--set", "eval.every=0", "--set", "output.dir="+run)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, errOut)
	}
	cfg := string(read(t, filepath.Join(run, "config.yaml")))
	for _, want := range []string{"size: 28", "channels: 1", "flip: true"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config.yaml lacks %q", want)
		}
	}
	out := filepath.Join(t.TempDir(), "dogs.png")
	mustRun(t, "sample", "--run", run, "--class", "dogs,0", "--n", "3", "--out", out)
	if labels := strings.Fields(string(read(t, strings.TrimSuffix(out, ".png")+".labels.txt"))); !slices.Equal(labels, []string{"1", "1", "1", "0", "0", "0"}) {
		t.Errorf("labels %q, want three 1s (dogs) then three 0s", labels)
	}
	code, _, errOut = gantrain(t, "sample", "--run", run, "--class", "birds", "--out", out)
	if code != 2 || !strings.Contains(errOut, `"birds" is not a class`) || !strings.Contains(errOut, "cats, dogs") {
		t.Errorf("unknown class: exit %d, %q", code, errOut)
	}
}
