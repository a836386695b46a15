package mnist

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadTiny(t *testing.T) {
	for _, tc := range []struct {
		split      string
		n          int
		firstLabel uint8
	}{{"train", tinyTrain, 5}, {"test", tinyTest, 7}} {
		ds, err := Load(tinyDir, tc.split)
		if err != nil {
			t.Fatal(err)
		}
		if ds.N != tc.n || ds.Rows != 28 || ds.Cols != 28 || len(ds.Images) != tc.n*784 || len(ds.Labels) != tc.n {
			t.Errorf("%s: %d images of %dx%d, %d bytes, %d labels", tc.split, ds.N, ds.Rows, ds.Cols, len(ds.Images), len(ds.Labels))
		}
		if ds.Labels[0] != tc.firstLabel || ds.Split != tc.split || ds.Dir != tinyDir {
			t.Errorf("%s: first label %d, split %q, dir %q", tc.split, ds.Labels[0], ds.Split, ds.Dir)
		}
		if got := ds.NumClasses(); got != 10 {
			t.Errorf("%s: NumClasses = %d, want 10", tc.split, got)
		}
	}
}

// The training fixture must contain every digit, or conditional GAN tests
// on it would miss classes.
func TestTinyHasAllDigits(t *testing.T) {
	ds, err := Load(tinyDir, "train")
	if err != nil {
		t.Fatal(err)
	}
	var count [10]int
	for _, l := range ds.Labels {
		count[l]++
	}
	for d, c := range count {
		if c == 0 {
			t.Errorf("digit %d missing from the tiny training set", d)
		}
	}
}

// Raw files and the dot spelling some mirrors use are found too.
func TestLoadNamingVariants(t *testing.T) {
	pixels := make([]byte, 3*4*4)
	for name, files := range map[string][2]string{
		"raw":      {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
		"dot":      {"t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte"},
		"dot gzip": {"t10k-images.idx3-ubyte.gz", "t10k-labels.idx1-ubyte.gz"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			gz := filepath.Ext(files[0]) == ".gz"
			writeImages(t, dir, files[0], 3, 4, 4, pixels, gz)
			writeLabels(t, dir, files[1], []byte{0, 2, 1}, gz)
			ds, err := Load(dir, "test")
			if err != nil {
				t.Fatal(err)
			}
			if ds.N != 3 || ds.Rows != 4 || ds.NumClasses() != 3 || !bytes.Equal(ds.Labels, []byte{0, 2, 1}) {
				t.Errorf("got %+v", ds)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("missing dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "absent")
		_, err := Load(dir, "train")
		wantErr(t, err, "data directory "+dir+" does not exist")
	})
	t.Run("not a dir", func(t *testing.T) {
		p := writeFile(t, t.TempDir(), "file", nil)
		_, err := Load(p, "train")
		wantErr(t, err, "data directory "+p+" is not a directory")
	})
	t.Run("bad split", func(t *testing.T) {
		_, err := Load(tinyDir, "validation")
		wantErr(t, err, `unknown split "validation"`)
	})
	t.Run("missing images", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Load(dir, "test")
		wantErr(t, err, dir, "no t10k-images file", "t10k-images-idx3-ubyte, t10k-images-idx3-ubyte.gz, t10k-images.idx3-ubyte")
	})
	t.Run("missing labels", func(t *testing.T) {
		dir := t.TempDir()
		writeImages(t, dir, "train-images-idx3-ubyte.gz", 1, 2, 2, make([]byte, 4), true)
		_, err := Load(dir, "train")
		wantErr(t, err, dir, "no train-labels file", "train-labels-idx1-ubyte.gz")
	})
	t.Run("count mismatch", func(t *testing.T) {
		dir := t.TempDir()
		ip := writeImages(t, dir, "train-images-idx3-ubyte.gz", 3, 2, 2, make([]byte, 12), true)
		lp := writeLabels(t, dir, "train-labels-idx1-ubyte", []byte{1, 2}, false)
		_, err := Load(dir, "train")
		wantErr(t, err, "count mismatch", ip+" has 3 images", lp+" has 2 labels")
	})
	t.Run("corrupt labels", func(t *testing.T) {
		dir := t.TempDir()
		writeImages(t, dir, "train-images-idx3-ubyte", 1, 2, 2, make([]byte, 4), false)
		lp := writeFile(t, dir, "train-labels-idx1-ubyte", []byte("not an idx file"))
		_, err := Load(dir, "train")
		wantErr(t, err, "mnist: "+lp+": bad magic number 0x6e6f7420")
	})
	t.Run("unreadable dir entry", func(t *testing.T) {
		// A directory with the image file's name is skipped, not opened.
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "train-images-idx3-ubyte"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir, "train")
		wantErr(t, err, "no train-images file")
	})
}
