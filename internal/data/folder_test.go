package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantrain/gantrain/internal/config"
	"golang.org/x/image/bmp"
)

// solid is a w×h image of one colour, in the kind of image asked for.
func solid(kind string, w, h int, c color.NRGBA) image.Image {
	r := image.Rect(0, 0, w, h)
	switch kind {
	case "gray":
		g := image.NewGray(r)
		for i := range g.Pix {
			g.Pix[i] = c.R
		}
		return g
	case "paletted":
		p := image.NewPaletted(r, color.Palette{color.NRGBA{0, 0, 0, 255}, c})
		for i := range p.Pix {
			p.Pix[i] = 1
		}
		return p
	}
	img := image.NewNRGBA(r)
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

// encode returns img in the format of name's extension.
func encode(t testing.TB, name string, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png":
		err = png.Encode(&b, img)
	case ".jpg", ".jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	case ".gif":
		err = gif.Encode(&b, img, nil)
	case ".bmp":
		err = bmp.Encode(&b, img)
	default:
		t.Fatalf("no encoder for %s", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// put writes b to dir/rel, making folders.
func put(t testing.TB, dir, rel string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// putImage writes img encoded as rel's extension.
func putImage(t testing.TB, dir, rel string, img image.Image) string {
	t.Helper()
	return put(t, dir, rel, encode(t, rel, img))
}

// bombPNG is a valid PNG header (signature and IHDR with a correct CRC)
// declaring w×h pixels, followed by nothing.
func bombPNG(w, h uint32) []byte {
	var ihdr bytes.Buffer
	ihdr.WriteString("IHDR")
	binary.Write(&ihdr, binary.BigEndian, w)
	binary.Write(&ihdr, binary.BigEndian, h)
	ihdr.Write([]byte{8, 2, 0, 0, 0}) // 8-bit RGB
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr.Bytes())
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr.Bytes()))
	return b.Bytes()
}

// snapshot records every entry under dir (name, size, mode, mtime), to
// show that a folder was not written.
func snapshot(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p+" "+info.Mode().String()+" "+info.ModTime().String()+" "+string(rune(info.Size())))
		return nil
	})
	return out
}

func folderConfig(dir, cache string) config.Data {
	return config.Data{Name: "folder", Path: dir, Background: "white", Cache: cache}
}

var red = color.NRGBA{200, 30, 40, 255}

// A labelled tree in every format and colour type: classes are the sorted
// first-level folders (deeper folders belong to their first-level one);
// hidden files and folders and non-images are ignored.
func TestFolderClassesAndFormats(t *testing.T) {
	dir := t.TempDir()
	webp, err := os.ReadFile("../../testdata/images/rgba-20x12-lossless.webp")
	if err != nil {
		t.Fatal(err)
	}
	putImage(t, dir, "zebra/a.png", solid("rgba", 20, 12, red))
	putImage(t, dir, "zebra/deep/er/b.PNG", solid("gray", 12, 20, color.NRGBA{R: 90}))
	putImage(t, dir, "apple/c.jpg", solid("rgba", 30, 30, red))
	putImage(t, dir, "apple/d.gif", solid("paletted", 17, 40, red))
	putImage(t, dir, "apple/e.bmp", solid("rgba", 24, 16, red))
	put(t, dir, "apple/f.webp", webp)
	put(t, dir, "apple/notes.txt", []byte("not an image"))
	putImage(t, dir, "apple/.hidden.png", solid("rgba", 5, 5, red))
	putImage(t, dir, ".git/x.png", solid("rgba", 5, 5, red))
	putImage(t, dir, "mango/g.jpeg", solid("gray", 300, 200, color.NRGBA{R: 10}))
	before := snapshot(t, dir)

	ds, rep, err := Load(config.Data{Name: "folder", Path: dir, Background: "white", Size: 8, Cache: t.TempDir()}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Classes, []string{"apple", "mango", "zebra"}) || !slices.Equal(ds.Counts(), []int{4, 1, 2}) {
		t.Errorf("classes %q counts %v, want [apple mango zebra] [4 1 2]", ds.Classes, ds.Counts())
	}
	if ds.N != 7 || ds.C != 3 || ds.H != 8 || ds.W != 8 || rep.Files != 7 || len(rep.Skipped) != 0 {
		t.Errorf("N %d C %d H %d W %d files %d skipped %v", ds.N, ds.C, ds.H, ds.W, rep.Files, rep.Skipped)
	}
	// Files in sorted path order: apple/c.jpg first, a solid red (JPEG: near).
	for c, want := range []uint8{200, 30, 40} {
		near(t, "apple/c.jpg", ds.Pixels[c*64+27], float64(want), 4)
	}
	// zebra/deep/er/b.PNG: gray 90 in all three channels.
	b := ds.Pixels[6*ds.ImageSize():]
	for c := range 3 {
		if b[c*64+27] != 90 {
			t.Errorf("gray PNG channel %d = %d, want 90", c, b[c*64+27])
		}
	}
	if !slices.Equal(before, snapshot(t, dir)) {
		t.Error("the data folder changed")
	}
}

// The WebP decoder is wired in: the committed lossless file (written with
// cwebp -lossless -exact from a known image) decodes to its pixels.
func TestWebP(t *testing.T) {
	img, err := decodeFile("../../testdata/images/rgba-20x12-lossless.webp")
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 20 || img.Bounds().Dy() != 12 {
		t.Fatalf("bounds %v", img.Bounds())
	}
	for _, p := range []image.Point{{5, 3}, {19, 11}, {10, 0}} {
		got := color.NRGBAModel.Convert(img.At(p.X, p.Y)).(color.NRGBA)
		want := color.NRGBA{uint8(p.X * 12), uint8(p.Y * 20), 200, 255}
		if got != want {
			t.Errorf("pixel %v = %v, want %v", p, got, want)
		}
	}
	if _, err := decodeFile("../../testdata/images/rgba-20x12-lossy.webp"); err != nil {
		t.Errorf("lossy WebP: %v", err)
	}
}

// Images at the top level make the data unlabelled; the default size is
// the shared one and the default channels 1 when every image is gray.
func TestFolderUnlabelledDefaults(t *testing.T) {
	dir := t.TempDir()
	putImage(t, dir, "a.png", solid("gray", 10, 14, color.NRGBA{R: 50}))
	putImage(t, dir, "sub/b.png", solid("gray", 10, 14, color.NRGBA{R: 60}))
	putImage(t, dir, "sub/c.gif", solid("paletted", 10, 14, color.NRGBA{70, 70, 70, 255}))
	ds, _, err := Load(folderConfig(dir, t.TempDir()), LoadOptions{BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Labelled() || ds.Classes != nil || ds.C != 1 || ds.H != 10 || ds.N != 3 {
		t.Errorf("labelled %v classes %q C %d H %d N %d; want unlabelled, 1×10×10, 3 images", ds.Labelled(), ds.Classes, ds.C, ds.H, ds.N)
	}
	if ds.Pixels[0] != 50 || ds.Pixels[100] != 60 || ds.Pixels[200] != 70 {
		t.Errorf("first pixels %d %d %d, want 50 60 70", ds.Pixels[0], ds.Pixels[100], ds.Pixels[200])
	}
}

// A symbolic link back up the tree is followed once: no loop, no repeat.
func TestFolderSymlinkLoop(t *testing.T) {
	dir := t.TempDir()
	putImage(t, dir, "cats/a.png", solid("rgba", 8, 8, red))
	putImage(t, dir, "dogs/b.png", solid("rgba", 8, 8, red))
	for _, link := range []string{"cats/loop", "dogs/up"} {
		if err := os.Symlink(dir, filepath.Join(dir, link)); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	os.Symlink(filepath.Join(dir, "gone.png"), filepath.Join(dir, "cats", "dangling.png"))
	done := make(chan struct{})
	var ds *Dataset
	var err error
	go func() {
		ds, _, err = Load(folderConfig(dir, t.TempDir()), LoadOptions{})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Load did not return: a symbolic link loop is followed forever")
	}
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 2 || !slices.Equal(ds.Counts(), []int{1, 1}) {
		t.Errorf("N %d counts %v, want 2 images, one per class", ds.N, ds.Counts())
	}
}

// Broken files are skipped, counted and named; the rest is used.
func TestFolderSkipsBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := encode(t, "x.png", solid("rgba", 16, 16, red))
	for i := range 4 {
		put(t, dir, "ok/"+string(rune('a'+i))+".png", good)
	}
	jpg := encode(t, "x.jpg", solid("rgba", 16, 16, red))
	bad := map[string][]byte{
		"bad/truncated.png": good[:len(good)/2],
		"bad/truncated.jpg": jpg[:len(jpg)/2],
		"bad/empty.gif":     {},
		"bad/text.bmp":      []byte("this is text, not a bitmap"),
		"bad/bomb.png":      bombPNG(10000, 10000),
		"bad/zero.png":      bombPNG(0, 5),
	}
	for name, b := range bad {
		put(t, dir, name, b)
	}
	putImage(t, dir, "bad/fine.png", solid("rgba", 16, 16, red))
	var msgs bytes.Buffer
	ds, rep, err := Load(folderConfig(dir, t.TempDir()), LoadOptions{Progress: &msgs})
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 5 || len(rep.Skipped) != len(bad) || rep.Files != 11 {
		t.Fatalf("N %d, skipped %d of %d, want 5 used and %d skipped of 11", ds.N, len(rep.Skipped), rep.Files, len(bad))
	}
	reasons := map[string]string{}
	for _, s := range rep.Skipped {
		reasons[s.Path] = s.Reason
	}
	for name, want := range map[string]string{
		"bad/bomb.png":  "over the 64 Mpixel limit",
		"bad/zero.png":  "", // rejected by the PNG decoder or by the empty-size check
		"bad/text.bmp":  "not a PNG, JPEG, GIF, BMP or WebP image",
		"bad/empty.gif": "not a PNG",
	} {
		r, ok := reasons[name]
		if !ok || !strings.Contains(r, want) {
			t.Errorf("%s: reason %q, want it skipped with %q", name, r, want)
		}
	}
	line := strings.TrimSpace(msgs.String())
	if !strings.Contains(line, "skipped 6 of 11 image files: bad/") || strings.Contains(line, "more") {
		t.Errorf("summary %q", line)
	}
	for name := range bad {
		if !strings.Contains(line, name) {
			t.Errorf("summary %q does not name %s", line, name)
		}
	}
	// Beyond maxNamed files the summary counts the rest.
	many := &Report{Files: 20}
	for i := range 11 {
		many.Skipped = append(many.Skipped, Skip{Path: fmt.Sprintf("f%d.png", i), Reason: "bad"})
	}
	if s := many.SkipSummary(); !strings.Contains(s, "f7.png (bad) and 3 more") || strings.Contains(s, "f8.png") {
		t.Errorf("summary of 11: %q", s)
	}
}

// Every hostile folder gives a one-line error naming it, and nothing is
// written: neither the cache nor anything in the data folder.
func TestFolderErrors(t *testing.T) {
	png16 := func(t *testing.T, dir, rel string) { putImage(t, dir, rel, solid("rgba", 16, 16, red)) }
	for name, tc := range map[string]struct {
		make  func(t *testing.T, dir string)
		edit  func(d *config.Data)
		batch int
		want  []string
	}{
		"no images":        {func(t *testing.T, dir string) { put(t, dir, "a.txt", []byte("x")) }, nil, 0, []string{"holds no image file"}},
		"empty folder":     {func(t *testing.T, dir string) {}, nil, 0, []string{"holds no image file"}},
		"only broken":      {func(t *testing.T, dir string) { put(t, dir, "a.png", []byte("x")) }, nil, 0, []string{"holds no usable image", "a.png"}},
		"empty class":      {func(t *testing.T, dir string) { png16(t, dir, "a/x.png"); os.Mkdir(filepath.Join(dir, "b"), 0o755) }, nil, 0, []string{"class folder", "b holds no image file"}},
		"class all broken": {func(t *testing.T, dir string) { png16(t, dir, "a/x.png"); put(t, dir, "b/y.png", []byte("x")) }, nil, 0, []string{"class folder", "b holds no usable image"}},
		"fewer than batch": {func(t *testing.T, dir string) { png16(t, dir, "x.png"); png16(t, dir, "y.png") }, nil, 3, []string{"2 usable images, fewer than one batch", "train.batch_size 3"}},
		"mixed sizes": {func(t *testing.T, dir string) {
			png16(t, dir, "x.png")
			putImage(t, dir, "y.png", solid("rgba", 9, 16, red))
		}, nil, 0, []string{"2 different sizes", "data.size"}},
		"missing folder":    {func(t *testing.T, dir string) {}, func(d *config.Data) { d.Path = filepath.Join(d.Path, "nope") }, 0, []string{"nope", "no such file"}},
		"folder is a file":  {func(t *testing.T, dir string) { png16(t, dir, "x.png") }, func(d *config.Data) { d.Path = filepath.Join(d.Path, "x.png") }, 0, []string{"x.png is not a folder"}},
		"cache inside data": {func(t *testing.T, dir string) { png16(t, dir, "x.png") }, func(d *config.Data) { d.Cache = filepath.Join(d.Path, "cache") }, 0, []string{"inside the data folder", "never writes"}},
	} {
		t.Run(name, func(t *testing.T) {
			dir, cache := t.TempDir(), filepath.Join(t.TempDir(), "cache")
			tc.make(t, dir)
			before := snapshot(t, dir)
			d := folderConfig(dir, cache)
			if tc.edit != nil {
				tc.edit(&d)
			}
			_, _, err := Load(d, LoadOptions{BatchSize: tc.batch})
			wantErr(t, err, tc.want...)
			if !slices.Equal(before, snapshot(t, dir)) {
				t.Error("the data folder changed")
			}
			if _, err := os.Stat(cache); err == nil {
				t.Error("the cache directory was created")
			}
		})
	}
}

// The second load reads the cache and gives the same data; changing a file,
// an option, or damaging the cache decodes again.
func TestFolderCache(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	for i := range 5 {
		putImage(t, dir, "c/"+string(rune('a'+i))+".png", solid("rgba", 12, 12, color.NRGBA{uint8(40 * i), 20, 30, 200}))
	}
	put(t, dir, "c/broken.png", []byte("x"))
	d := folderConfig(dir, cache)
	first, rep1, err := Load(d, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second, rep2, err := Load(d, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep1.CacheHit || !rep2.CacheHit || rep1.Cache == "" || rep1.Cache != rep2.Cache {
		t.Fatalf("first hit %v (cache %q), second hit %v (cache %q)", rep1.CacheHit, rep1.Cache, rep2.CacheHit, rep2.Cache)
	}
	same := func(a, b *Dataset) bool {
		return a.N == b.N && a.C == b.C && a.H == b.H && bytes.Equal(a.Pixels, b.Pixels) && bytes.Equal(a.Labels, b.Labels) && slices.Equal(a.Classes, b.Classes)
	}
	if !same(first, second) || !slices.Equal(rep1.Skipped, rep2.Skipped) || len(rep2.Skipped) != 1 {
		t.Fatal("the cached data differs from the decoded data")
	}

	// A resumed run names the size and channels the first run chose: the
	// "auto" cache serves it, but not a request for another shape.
	named := d
	named.Size, named.Channels = first.H, first.C
	if got, rep, err := Load(named, LoadOptions{}); err != nil || !rep.CacheHit || !same(first, got) {
		t.Errorf("size and channels named: hit %v (err %v)", rep.CacheHit, err)
	}
	named.Size = first.H / 2
	if got, rep, err := Load(named, LoadOptions{}); err != nil || rep.CacheHit || got.H != first.H/2 {
		t.Errorf("another size: hit %v (err %v)", rep.CacheHit, err)
	}

	// Another option: another cache file.
	d2 := d
	d2.Background = "black"
	_, rep3, err := Load(d2, LoadOptions{})
	if err != nil || rep3.CacheHit || rep3.Cache == rep1.Cache {
		t.Errorf("background changed: hit %v, cache %q (err %v)", rep3.CacheHit, rep3.Cache, err)
	}
	// A changed file: a miss.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "c", "a.png"), later, later)
	_, rep4, err := Load(d, LoadOptions{})
	if err != nil || rep4.CacheHit {
		t.Errorf("file touched: hit %v (err %v)", rep4.CacheHit, err)
	}
	// A damaged cache: ignored with a message, decoded again, rewritten.
	b, _ := os.ReadFile(rep4.Cache)
	b[len(b)/2] ^= 0xff
	os.WriteFile(rep4.Cache, b, 0o644)
	var msgs bytes.Buffer
	again, rep5, err := Load(d, LoadOptions{Progress: &msgs})
	if err != nil || rep5.CacheHit || !strings.Contains(msgs.String(), "ignoring the cache") || !strings.Contains(msgs.String(), "checksum") {
		t.Errorf("damaged cache: hit %v, messages %q (err %v)", rep5.CacheHit, msgs.String(), err)
	}
	if !same(first, again) {
		t.Error("data decoded after a damaged cache differs")
	}
	if _, rep6, _ := Load(d, LoadOptions{}); !rep6.CacheHit {
		t.Error("the cache was not rewritten after damage")
	}
	// A truncated cache too.
	os.Truncate(rep4.Cache, 100)
	if _, rep7, err := Load(d, LoadOptions{}); err != nil || rep7.CacheHit {
		t.Errorf("truncated cache: hit %v (err %v)", rep7.CacheHit, err)
	}
}

// A cache directory that cannot be made is not fatal: the data loads
// uncached, with a message.
func TestFolderCacheIsAFile(t *testing.T) {
	dir := t.TempDir()
	putImage(t, dir, "a.png", solid("rgba", 8, 8, red))
	file := put(t, t.TempDir(), "cache", []byte("a file"))
	var msgs bytes.Buffer
	ds, rep, err := Load(folderConfig(dir, file), LoadOptions{Progress: &msgs})
	if err != nil || ds.N != 1 || rep.Cache != "" || !strings.Contains(msgs.String(), "not caching") {
		t.Errorf("cache %q, messages %q, err %v; want the data uncached, with a message", rep.Cache, msgs.String(), err)
	}
}
