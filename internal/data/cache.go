package data

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/fsutil"
)

// cacheMagic starts a cache file; the digit is the format version.
const cacheMagic = "gantrain decoded images 1\n"

// cacheHeader describes the data that follows it in a cache file.
type cacheHeader struct {
	N, C, H, W int
	Classes    []string // nil: unlabelled, no label bytes
	Skipped    []Skip
}

// cacheKey identifies a folder's decoded images: the list of files with
// their sizes and modification times, and every preprocessing option.
func cacheKey(d config.Data, bg [3]uint8, t *folderTree) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s size=%d channels=%d bg=%v\n", cacheMagic, d.Size, d.Channels, bg)
	for _, c := range t.classes {
		fmt.Fprintf(h, "class %q\n", c)
	}
	for _, f := range t.files {
		fmt.Fprintf(h, "%q %d %d\n", f.rel, f.size, f.mtime)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// cacheDir is data.cache, else gantrain's folder in the user cache
// directory ("" if there is none: no caching).
func cacheDir(d config.Data) string {
	if d.Cache != "" {
		return d.Cache
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "gantrain", "data")
}

// cachePath returns the cache file for the folder, or "" when there is no
// cache directory. A cache directory inside the data folder is an error:
// the data folder is never written.
func cachePath(d config.Data, bg [3]uint8, t *folderTree) (string, error) {
	dir := cacheDir(d)
	if dir == "" {
		return "", nil
	}
	if Inside(dir, d.Path) {
		return "", fmt.Errorf("data: the cache directory %s is inside the data folder %s, which gantrain never writes; set data.cache elsewhere", dir, d.Path)
	}
	name := filepath.Base(filepath.Clean(d.Path))
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == '.' || r < ' ' {
			return '_'
		}
		return r
	}, name)
	return filepath.Join(dir, name+"-"+cacheKey(d, bg, t)+".cache"), nil
}

// Inside reports whether path is root or below it, after resolving links
// (of the longest existing prefix of path).
func Inside(path, root string) bool {
	r, err := realPath(root)
	if err != nil {
		return false
	}
	p, err := realPath(path)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(r, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// realPath is the absolute path with links resolved as far as it exists.
func realPath(p string) (string, error) {
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(p, rest), nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// writeCache stores ds atomically: magic, header length and JSON header,
// pixels, labels, and a CRC-32 of all that.
func writeCache(path string, ds *Dataset, skipped []Skip) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	hdr, err := json.Marshal(cacheHeader{N: ds.N, C: ds.C, H: ds.H, W: ds.W, Classes: ds.Classes, Skipped: skipped})
	if err != nil {
		return err
	}
	return fsutil.WriteFile(path, 0o644, func(w io.Writer) error {
		crc := crc32.NewIEEE()
		bw := bufio.NewWriter(io.MultiWriter(w, crc))
		bw.WriteString(cacheMagic)
		binary.Write(bw, binary.LittleEndian, uint32(len(hdr)))
		bw.Write(hdr)
		bw.Write(ds.Pixels)
		bw.Write(ds.Labels)
		if err := bw.Flush(); err != nil {
			return err
		}
		return binary.Write(w, binary.LittleEndian, crc.Sum32())
	})
}

// maxCacheHeader bounds the JSON header a cache file may claim.
const maxCacheHeader = 16 << 20

// readCache reads a cache file written by writeCache, checking its size
// and checksum; an error satisfying os.IsNotExist means there is none.
func readCache(path string) (*Dataset, []Skip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	crc := crc32.NewIEEE()
	r := io.TeeReader(bufio.NewReaderSize(f, 1<<20), crc)
	magic := make([]byte, len(cacheMagic))
	var n uint32
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != cacheMagic {
		return nil, nil, errors.New("not a gantrain cache file of this version")
	}
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || n > maxCacheHeader || int64(n) > st.Size() {
		return nil, nil, errors.New("bad header length")
	}
	hb := make([]byte, n)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, nil, errors.New("truncated header")
	}
	var h cacheHeader
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, nil, fmt.Errorf("bad header: %v", err)
	}
	ds := &Dataset{N: h.N, C: h.C, H: h.H, W: h.W, Classes: h.Classes}
	if h.N < 1 || (h.C != 1 && h.C != 3) || h.H < 1 || h.H > 1024 || h.W != h.H || len(h.Classes) > 256 {
		return nil, nil, fmt.Errorf("bad header: %d images of %d×%d×%d", h.N, h.C, h.H, h.W)
	}
	nl := 0
	if h.Classes != nil {
		nl = h.N
	}
	want := int64(len(cacheMagic)) + 4 + int64(n) + int64(h.N)*int64(ds.ImageSize()) + int64(nl) + 4
	if st.Size() != want {
		return nil, nil, fmt.Errorf("size %d, the header implies %d", st.Size(), want)
	}
	ds.Pixels = make([]uint8, h.N*ds.ImageSize())
	if _, err := io.ReadFull(r, ds.Pixels); err != nil {
		return nil, nil, err
	}
	if nl > 0 {
		ds.Labels = make([]uint8, nl)
		if _, err := io.ReadFull(r, ds.Labels); err != nil {
			return nil, nil, err
		}
	}
	sum := crc.Sum32()
	var stored uint32
	if err := binary.Read(r, binary.LittleEndian, &stored); err != nil {
		return nil, nil, err
	}
	if stored != sum {
		return nil, nil, errors.New("checksum mismatch")
	}
	if err := ds.Check(); err != nil {
		return nil, nil, err
	}
	return ds, h.Skipped, nil
}
