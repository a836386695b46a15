package classifier

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gantrain/gantrain/internal/data"
)

// DataKey identifies a data set by its content: shape, class names, pixels
// and labels (so the same images read from a folder, IDX files or a cache
// have one key, and any change to them or to their preprocessing another).
func DataKey(ds *data.Dataset) string {
	h := sha256.New()
	fmt.Fprintf(h, "gantrain classifier data 1\nN=%d C=%d H=%d W=%d\n", ds.N, ds.C, ds.H, ds.W)
	for _, c := range ds.Classes {
		fmt.Fprintf(h, "class %q\n", c)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(ds.Pixels)))
	h.Write(n[:])
	h.Write(ds.Pixels)
	binary.LittleEndian.PutUint64(n[:], uint64(len(ds.Labels)))
	h.Write(n[:])
	h.Write(ds.Labels)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// StoreDir is where trained classifiers are kept: <dataCache>/classifiers
// when data.cache is set, else gantrain's folder in the user cache
// directory ("" if there is none).
func StoreDir(dataCache string) string {
	if dataCache != "" {
		return filepath.Join(dataCache, "classifiers")
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "gantrain", "classifiers")
}

// StoreName is the file name of ds's classifier of the given mode.
func StoreName(ds *data.Dataset, mode string) string {
	name := filepath.Base(filepath.Clean(ds.Source))
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == '.' || r < ' ' || r == ' ' {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf("%s-%s.%s.safetensors", name, DataKey(ds), mode)
}

// ErrNotStored is returned by Find when no classifier matches the data.
var ErrNotStored = errors.New("no classifier stored for this data")

// Find returns the stored classifier for ds and its path: in the first of
// dirs that holds one, the labels classifier before the rotation one
// (only the rotation one when rotation is set).
func Find(ds *data.Dataset, rotation bool, dirs ...string) (*Net, string, error) {
	modes := []string{ModeLabels, ModeRotation}
	if rotation {
		modes = modes[1:]
	}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		for _, mode := range modes {
			p := filepath.Join(dir, StoreName(ds, mode))
			if _, err := os.Stat(p); err != nil {
				continue
			}
			n, err := LoadFile(p)
			if err != nil {
				return nil, "", err
			}
			if n.Shape.C != ds.C || n.Shape.H != ds.H || n.Shape.W != ds.W {
				return nil, "", fmt.Errorf("classifier: %s takes %d×%d×%d images, the data is %d×%d×%d", p, n.Shape.C, n.Shape.H, n.Shape.W, ds.C, ds.H, ds.W)
			}
			return n, p, nil
		}
	}
	return nil, "", ErrNotStored
}
