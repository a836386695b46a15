package mnist

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestReadTinyGzip(t *testing.T) {
	imgs, n, rows, cols, err := ReadImages(filepath.Join(tinyDir, "train-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if n != tinyTrain || rows != 28 || cols != 28 || len(imgs) != n*rows*cols {
		t.Fatalf("got %d images of %dx%d (%d bytes), want %d of 28x28", n, rows, cols, len(imgs), tinyTrain)
	}
	labels, err := ReadLabels(filepath.Join(tinyDir, "train-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{5, 0, 4, 1, 9, 2, 1, 3, 1, 4} // the well-known first MNIST training labels
	if !bytes.Equal(labels[:len(want)], want) {
		t.Errorf("first labels %v, want %v", labels[:len(want)], want)
	}
	// Image 0 (a 5): the border is background, the digit has ink.
	img0 := imgs[:28*28]
	if img0[0] != 0 || img0[28*28-1] != 0 {
		t.Errorf("image 0 corners %d, %d; want background 0", img0[0], img0[28*28-1])
	}
	if ink := countNonZero(img0); ink < 50 || ink > 400 {
		t.Errorf("image 0 has %d non-zero pixels; not a plausible digit", ink)
	}
}

func TestReadRawEqualsGzip(t *testing.T) {
	dir := t.TempDir()
	imgs, n, rows, cols, err := ReadImages(filepath.Join(tinyDir, "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	labels, err := ReadLabels(filepath.Join(tinyDir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	// Raw files, with a misleading ".gz" name: detection is by content.
	ip := writeImages(t, dir, "raw-images.gz", n, rows, cols, imgs, false)
	lp := writeLabels(t, dir, "raw-labels", labels, false)
	imgs2, n2, rows2, cols2, err := ReadImages(ip)
	if err != nil {
		t.Fatal(err)
	}
	if n2 != n || rows2 != rows || cols2 != cols || !bytes.Equal(imgs2, imgs) {
		t.Errorf("raw read differs: %d×%dx%d", n2, rows2, cols2)
	}
	labels2, err := ReadLabels(lp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(labels2, labels) {
		t.Errorf("raw labels differ")
	}
	if labels[0] != 7 || n != tinyTest {
		t.Errorf("t10k: %d images, first label %d; want %d, 7", n, labels[0], tinyTest)
	}
}

func TestReadErrors(t *testing.T) {
	good := encodeIDX(imageMagic, []uint32{2, 3, 3}, make([]byte, 18))
	goodLabels := encodeIDX(labelMagic, []uint32{3}, []byte{1, 2, 3})
	tests := []struct {
		name   string
		data   []byte
		labels bool // read as a label file
		want   []string
	}{
		{"wrong magic", goodLabels, false, []string{"bad magic number 0x00000801 (want 0x00000803 for an image file)", "label file"}},
		{"wrong magic labels", good, true, []string{"bad magic number 0x00000803 (want 0x00000801 for a label file)", "image file"}},
		{"empty", nil, false, []string{"truncated header", "0 of 16 bytes"}},
		{"truncated header", good[:10], false, []string{"truncated header", "10 of 16"}},
		{"truncated label header", goodLabels[:6], true, []string{"truncated header", "6 of 8"}},
		{"truncated data", good[:len(good)-1], false, []string{"truncated data", "promises 18 bytes", "found 17"}},
		{"truncated labels", goodLabels[:len(goodLabels)-2], true, []string{"truncated data", "promises 3 bytes", "found 1"}},
		{"trailing bytes", append(bytes.Clone(good), 9, 9), false, []string{"2 trailing byte(s)"}},
		{"trailing label bytes", append(bytes.Clone(goodLabels), 9), true, []string{"1 trailing byte(s)"}},
		{"zero count", encodeIDX(imageMagic, []uint32{0, 28, 28}, nil), false, []string{"0 images"}},
		{"zero labels", encodeIDX(labelMagic, []uint32{0}, nil), true, []string{"0 labels"}},
		{"zero rows", encodeIDX(imageMagic, []uint32{1, 0, 28}, nil), false, []string{"absurd image size 0x28"}},
		{"huge cols", encodeIDX(imageMagic, []uint32{1, 28, 4097}, nil), false, []string{"absurd image size 28x4097"}},
		{"absurd dims", encodeIDX(imageMagic, []uint32{1e6, 4096, 4096}, make([]byte, 10)), false, []string{"absurd dimensions"}},
		{"absurd labels", encodeIDX(labelMagic, []uint32{0xffffffff}, make([]byte, 10)), true, []string{"absurd dimensions"}},
		{"gzip garbage", []byte{0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, false, []string{"bad gzip data"}},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, "f"+string(rune('a'+i)), tc.data)
			var err error
			if tc.labels {
				_, err = ReadLabels(p)
			} else {
				_, _, _, _, err = ReadImages(p)
			}
			wantErr(t, err, append([]string{"mnist: " + p + ": "}, tc.want...)...)
		})
	}
}

func TestReadGzipErrors(t *testing.T) {
	good := encodeIDX(imageMagic, []uint32{2, 3, 3}, make([]byte, 18))
	zgood := gzipBytes(t, good)
	corrupt := bytes.Clone(zgood)
	corrupt[len(corrupt)-6]++ // CRC-32 in the gzip trailer
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"truncated header", gzipBytes(t, good[:7]), []string{"truncated header", "7 of 16"}},
		{"truncated data", gzipBytes(t, good[:len(good)-3]), []string{"truncated data", "promises 18 bytes", "found 15"}},
		{"trailing bytes", gzipBytes(t, append(bytes.Clone(good), 0)), []string{"trailing bytes"}},
		{"cut stream", zgood[:len(zgood)-10], []string{"truncated data", "unexpected EOF"}},
		{"bad checksum", corrupt, []string{"reading data", "checksum"}},
		{"garbage after stream", append(bytes.Clone(zgood), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), []string{"reading data", "gzip"}},
		{"wrong magic", gzipBytes(t, encodeIDX(0x12345678, []uint32{2, 3, 3}, nil)), []string{"bad magic number 0x12345678"}},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, "g"+string(rune('a'+i)), tc.data)
			_, _, _, _, err := ReadImages(p)
			wantErr(t, err, append([]string{"mnist: " + p + ": "}, tc.want...)...)
		})
	}
}

func TestReadMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope-images-idx3-ubyte")
	_, _, _, _, err := ReadImages(p)
	wantErr(t, err, "mnist: "+p+": cannot open", "no such file")
	if !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("error %v does not wrap ErrNotExist", err)
	}
}

func TestReadDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadLabels(dir)
	wantErr(t, err, "mnist: "+dir+": is a directory")
}

// unwrapAll returns the innermost wrapped error.
func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// A header claiming nearly 2 GB over 10 bytes of data must fail fast and
// without allocating what it claims, raw or compressed.
func TestLyingHeaderDoesNotAllocate(t *testing.T) {
	dir := t.TempDir()
	data := encodeIDX(imageMagic, []uint32{2_000_000, 28, 28}, make([]byte, 10)) // 1.57 GB claimed
	files := map[string][]byte{"raw": data, "gzip": gzipBytes(t, data)}
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, dir, name, b)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, _, _, err := ReadImages(p)
			runtime.ReadMemStats(&after)
			wantErr(t, err, p, "truncated data", "promises 1568000000 bytes")
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("allocated %d bytes reading a lying header", alloc)
			}
		})
	}
}

func countNonZero(b []uint8) int {
	n := 0
	for _, x := range b {
		if x != 0 {
			n++
		}
	}
	return n
}
