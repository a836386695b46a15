package data

import (
	"bufio"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/schollz/progressbar/v3"

	// The decoders image.Decode knows.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/webp"
)

// imageExts are the file extensions read as images (lower case).
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"}

// imageFile is an image file found in the folder.
type imageFile struct {
	path  string // as opened
	rel   string // relative to the folder, with slashes: names it in messages and the cache key
	class int    // index into the classes; -1 at the top level
	size  int64
	mtime int64 // Unix nanoseconds
}

// folderTree is what walking a folder found.
type folderTree struct {
	files   []imageFile
	classes []string // first-level subfolders, sorted
	perDir  []int    // image files in each class folder
	topN    int      // image files at the top level
}

// walkFolder lists the image files under root, recursively, in sorted
// order. Hidden files and folders (".name") and files that are not images
// by extension are ignored; symbolic links are followed, each directory
// visited once (so loops are harmless), and dangling links are ignored.
func walkFolder(root string) (*folderTree, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("data: folder %s: %w", root, unwrapPath(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("data: %s is not a folder (data.name folder wants a directory of images)", root)
	}
	t := &folderTree{}
	seen := map[string]bool{}
	var visit func(dir, rel string, class int) error
	visit = func(dir, rel string, class int) error {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			if seen[real] {
				return nil
			}
			seen[real] = true
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("data: reading folder %s: %w", dir, unwrapPath(err))
		}
		for _, e := range ents {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			path, r := filepath.Join(dir, name), name
			if rel != "" {
				r = rel + "/" + name
			}
			info, err := os.Stat(path) // follows links
			if err != nil {
				continue // a dangling link or a file gone meanwhile
			}
			switch {
			case info.IsDir() && rel == "":
				t.classes = append(t.classes, name)
				t.perDir = append(t.perDir, 0)
				if err := visit(path, r, len(t.classes)-1); err != nil {
					return err
				}
			case info.IsDir():
				if err := visit(path, r, class); err != nil {
					return err
				}
			case info.Mode().IsRegular() && slices.Contains(imageExts, strings.ToLower(filepath.Ext(name))):
				t.files = append(t.files, imageFile{path: path, rel: r, class: class, size: info.Size(), mtime: info.ModTime().UnixNano()})
				if class < 0 {
					t.topN++
				} else {
					t.perDir[class]++
				}
			}
		}
		return nil
	}
	if err := visit(root, "", -1); err != nil {
		return nil, err
	}
	return t, nil
}

// labelled reports whether the folder's images are sorted into class
// folders: there are class folders and no image at the top level.
func (t *folderTree) labelled() bool { return t.topN == 0 && len(t.classes) > 0 }

// check rejects a folder with no image and, for labelled data, an empty
// class folder (a class with no example cannot be trained).
func (t *folderTree) check(root string) error {
	if len(t.files) == 0 {
		return fmt.Errorf("data: folder %s holds no image file (%s)", root, strings.Join(imageExts, ", "))
	}
	if !t.labelled() {
		return nil
	}
	if len(t.classes) > 256 {
		return fmt.Errorf("data: folder %s has %d class folders, more than the 256 gantrain supports", root, len(t.classes))
	}
	for i, n := range t.perDir {
		if n == 0 {
			return fmt.Errorf("data: class folder %s holds no image file (remove it, or move images into it)", filepath.Join(root, t.classes[i]))
		}
	}
	return nil
}

// header is what an image file's header says.
type header struct {
	w, h  int
	color bool
	err   string // why the file is skipped, or ""
}

// readHeader reads an image file's header (image.DecodeConfig) without
// decoding the pixels, and rejects files that declare too many.
func readHeader(path string) (h header) {
	f, err := os.Open(path)
	if err != nil {
		return header{err: unwrapPath(err).Error()}
	}
	defer f.Close()
	defer func() {
		if p := recover(); p != nil {
			h = header{err: fmt.Sprintf("decoder failed: %v", p)}
		}
	}()
	cfg, format, err := image.DecodeConfig(bufio.NewReader(f))
	switch {
	case err != nil:
		return header{err: shortErr(err)}
	case cfg.Width < 1 || cfg.Height < 1:
		return header{err: fmt.Sprintf("%s declares an empty %d×%d image", format, cfg.Width, cfg.Height)}
	case int64(cfg.Width)*int64(cfg.Height) > MaxPixels:
		return header{err: fmt.Sprintf("%s declares %d×%d pixels, over the %d Mpixel limit", format, cfg.Width, cfg.Height, MaxPixels>>20)}
	}
	return header{w: cfg.Width, h: cfg.Height, color: !isGrayModel(cfg.ColorModel)}
}

// decodeFile decodes an image file whose header was accepted.
func decodeFile(path string) (img image.Image, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s", unwrapPath(err))
	}
	defer f.Close()
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("decoder failed: %v", p)
		}
	}()
	img, _, err = image.Decode(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s", shortErr(err))
	}
	return img, nil
}

// shortErr is err's message on one line.
func shortErr(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if s == "image: unknown format" {
		return "not a PNG, JPEG, GIF, BMP or WebP image"
	}
	return s
}

// loadFolder reads a folder of images, through the cache when it can.
func loadFolder(d config.Data, bg [3]uint8, o LoadOptions) (*Dataset, *Report, error) {
	t, err := walkFolder(d.Path)
	if err != nil {
		return nil, nil, err
	}
	if err := t.check(d.Path); err != nil {
		return nil, nil, err
	}
	rep := &Report{Files: len(t.files)}
	cache, err := cachePath(d, bg, t)
	if err != nil {
		return nil, nil, err
	}
	if cache != "" {
		ds, skipped, err := readCache(cache)
		if os.IsNotExist(err) && (d.Size != 0 || d.Channels != 0) {
			// A run that let gantrain choose the size or channels cached
			// the folder under "auto" and recorded what was chosen, so its
			// resume names them: that cache serves when its shape matches.
			if auto, ok := readAutoCache(d, bg, t); ok {
				ds, skipped, err, cache = auto.ds, auto.skipped, nil, auto.path
			}
		}
		switch {
		case err == nil:
			ds.Source = d.Path
			rep.Cache, rep.CacheHit, rep.Skipped = cache, true, skipped
			printSkipped(o, rep)
			return ds, rep, nil
		case !os.IsNotExist(err) && o.Progress != nil:
			fmt.Fprintf(o.Progress, "gantrain: data: ignoring the cache %s (%v); decoding again\n", cache, err)
		}
	}
	ds, skipped, err := decodeFolder(d, bg, t, o)
	if err != nil {
		return nil, nil, err
	}
	rep.Skipped = skipped
	printSkipped(o, rep)
	if err := checkBatch(ds, o.BatchSize); err != nil {
		return nil, nil, err // before the cache is written
	}
	if cache != "" {
		if err := writeCache(cache, ds, skipped); err != nil {
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "gantrain: data: not caching the decoded images: %v\n", err)
			}
		} else {
			rep.Cache = cache
		}
	}
	return ds, rep, nil
}

type autoCache struct {
	ds      *Dataset
	skipped []Skip
	path    string
}

// readAutoCache reads the cache written with data.size and data.channels
// left to gantrain, if it holds images of the requested shape.
func readAutoCache(d config.Data, bg [3]uint8, t *folderTree) (autoCache, bool) {
	a := d
	a.Size, a.Channels = 0, 0
	path, err := cachePath(a, bg, t)
	if err != nil || path == "" {
		return autoCache{}, false
	}
	ds, skipped, err := readCache(path)
	if err != nil || (d.Size != 0 && (ds.H != d.Size || ds.W != d.Size)) || (d.Channels != 0 && ds.C != d.Channels) {
		return autoCache{}, false
	}
	return autoCache{ds, skipped, path}, true
}

func printSkipped(o LoadOptions, rep *Report) {
	if s := rep.SkipSummary(); s != "" && o.Progress != nil {
		fmt.Fprintln(o.Progress, "gantrain: data: "+s)
	}
}

// decodeFolder reads every header, settles the size and channels, then
// decodes and preprocesses the images in parallel straight into the
// dataset's pixels.
func decodeFolder(d config.Data, bg [3]uint8, t *folderTree, o LoadOptions) (*Dataset, []Skip, error) {
	heads := make([]header, len(t.files))
	forEach(len(t.files), func(i int) { heads[i] = readHeader(t.files[i].path) })

	p := prep{size: d.Size, channels: d.Channels, bg: rgba(bg)}
	var sizes []string
	anyColor := false
	for _, h := range heads {
		if h.err != "" {
			continue
		}
		anyColor = anyColor || h.color
		if s := fmt.Sprintf("%d×%d", h.w, h.h); !slices.Contains(sizes, s) {
			sizes = append(sizes, s)
		}
		if len(sizes) == 1 {
			p.size = cmp0(p.size, min(h.w, h.h))
		}
	}
	if d.Size == 0 && len(sizes) > 1 {
		shown := sizes[:min(len(sizes), 3)]
		return nil, nil, fmt.Errorf("data: the images in %s have %d different sizes (%s, …); set data.size, e.g. --set data.size=64",
			d.Path, len(sizes), strings.Join(shown, ", "))
	}
	if p.channels == 0 {
		p.channels = 1
		if anyColor {
			p.channels = 3
		}
	}

	n, size := len(t.files), p.channels*p.size*p.size
	pixels := make([]uint8, n*size)
	errs := make([]string, n)
	bar := newBar(o, n)
	forEach(n, func(i int) {
		defer bar.add()
		if heads[i].err != "" {
			errs[i] = heads[i].err
			return
		}
		img, err := decodeFile(t.files[i].path)
		if err != nil {
			errs[i] = err.Error()
			return
		}
		p.apply(pixels[i*size:(i+1)*size], img)
	})
	bar.finish()

	// Compact the usable images in place, in file order.
	ds := &Dataset{C: p.channels, H: p.size, W: p.size, Source: d.Path}
	if t.labelled() {
		ds.Classes = t.classes
		ds.Labels = make([]uint8, 0, n)
	}
	var skipped []Skip
	for i, f := range t.files {
		if errs[i] != "" {
			skipped = append(skipped, Skip{Path: f.rel, Reason: errs[i]})
			continue
		}
		copy(pixels[ds.N*size:], pixels[i*size:(i+1)*size])
		if ds.Labels != nil {
			ds.Labels = append(ds.Labels, uint8(f.class))
		}
		ds.N++
	}
	ds.Pixels = pixels[: ds.N*size : ds.N*size]
	if ds.N == 0 {
		return nil, nil, fmt.Errorf("data: folder %s holds no usable image (%s)", d.Path, (&Report{Files: n, Skipped: skipped}).SkipSummary())
	}
	for c, k := range ds.Counts() {
		if k == 0 {
			return nil, nil, fmt.Errorf("data: class folder %s holds no usable image (every file in it was skipped)", filepath.Join(d.Path, ds.Classes[c]))
		}
	}
	return ds, skipped, nil
}

// cmp0 returns a if it is set (non-zero), else b.
func cmp0(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// bar shows decoding progress: a progress bar on a terminal, else a line
// at the start and one at the end.
type bar struct {
	o     LoadOptions
	pb    *progressbar.ProgressBar
	n     int
	start time.Time
}

func newBar(o LoadOptions, n int) *bar {
	b := &bar{o: o, n: n, start: time.Now()}
	switch {
	case o.Progress == nil:
	case o.Bar:
		b.pb = progressbar.NewOptions(n,
			progressbar.OptionSetWriter(o.Progress),
			progressbar.OptionSetDescription("decoding images"),
			progressbar.OptionSetWidth(20),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	default:
		fmt.Fprintf(o.Progress, "gantrain: data: decoding %d image files\n", n)
	}
	return b
}

func (b *bar) add() {
	if b.pb != nil {
		_ = b.pb.Add(1) // progressbar locks: safe from every worker
	}
}

func (b *bar) finish() {
	if b.pb != nil {
		_ = b.pb.Finish()
	}
	if b.o.Progress != nil {
		fmt.Fprintf(b.o.Progress, "gantrain: data: decoded %d image files in %s\n", b.n, time.Since(b.start).Round(time.Millisecond))
	}
}
