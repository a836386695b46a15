package mnist

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadIDX feeds arbitrary bytes to both readers: they must never panic,
// and what they accept must be self-consistent.
func FuzzReadIDX(f *testing.F) {
	img := encodeIDX(imageMagic, []uint32{2, 3, 2}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	lbl := encodeIDX(labelMagic, []uint32{3}, []byte{1, 2, 3})
	f.Add(img)
	f.Add(lbl)
	f.Add(gzipBytes(f, img))
	f.Add(gzipBytes(f, lbl))
	f.Add(img[:len(img)-1])
	f.Add(append(img, 0))
	f.Add(encodeIDX(imageMagic, []uint32{1e6, 4096, 4096}, make([]byte, 10)))
	f.Add(encodeIDX(labelMagic, []uint32{0}, nil))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "idx")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if imgs, n, rows, cols, err := ReadImages(p); err == nil {
			if n < 1 || rows < 1 || cols < 1 || rows > maxSide || cols > maxSide || len(imgs) != n*rows*cols {
				t.Errorf("accepted %d images of %dx%d with %d bytes", n, rows, cols, len(imgs))
			}
		} else {
			wantErr(t, err, "mnist: "+p+": ")
		}
		if labels, err := ReadLabels(p); err == nil {
			if len(labels) == 0 {
				t.Error("accepted an empty label file")
			}
		} else {
			wantErr(t, err, "mnist: "+p+": ")
		}
	})
}
