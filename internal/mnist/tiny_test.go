package mnist

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/mnist-tiny from DefaultDir()")

// Sizes of the committed fixture.
const (
	tinyTrain = 320
	tinyTest  = 100
)

// TestGenerateTiny rewrites testdata/mnist-tiny from the real MNIST files when
// run with -update:
//
//	go test ./internal/mnist -run TestGenerateTiny -update
func TestGenerateTiny(t *testing.T) {
	if !*update {
		t.Skip("fixture regeneration runs only with -update")
	}
	dir, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(tinyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeTiny(t, dir, "train", "train", tinyTrain)
	writeTiny(t, dir, "test", "t10k", tinyTest)
}

// writeTiny writes the first n images and labels of split as gzip files.
func writeTiny(t *testing.T, dir, split, prefix string, n int) {
	ds, err := Load(dir, split)
	if err != nil {
		t.Fatal(err)
	}
	size := ds.ImageSize()
	writeImages(t, tinyDir, prefix+"-images-idx3-ubyte.gz", n, ds.Rows, ds.Cols, ds.Images[:n*size], true)
	writeLabels(t, tinyDir, prefix+"-labels-idx1-ubyte.gz", ds.Labels[:n], true)
	t.Logf("wrote %d %s images to %s", n, split, filepath.Clean(tinyDir))
}
