//go:build unix

package main

import (
	"bytes"
	"errors"
	"image/gif"
	"image/png"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gantrain/gantrain/internal/fsutil/fsutiltest"
	"github.com/gantrain/gantrain/internal/npy"
	"golang.org/x/sys/unix"
)

// fsizeEnv, in a child process (see TestMain), limits the size of every
// file it writes (RLIMIT_FSIZE): a write past the limit fails with EFBIG as
// a full disk fails with ENOSPC, in the kernel, midway through the file.
const fsizeEnv = "GOTEST_FSIZE_LIMIT"

func init() {
	if v := os.Getenv(fsizeEnv); v != "" && os.Getenv(childEnv) == "1" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err == nil {
			err = unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: n, Max: n})
		}
		if err != nil {
			panic(err)
		}
	}
}

// A write that fails midway through a checkpoint is an error naming the
// problem, and the previous checkpoint stays intact and loadable.
func TestWriteErrorKeepsPreviousCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, errOut := gantrain(t, tinyArgs(dir, 2)...); code != 0 {
		t.Fatal(errOut)
	}
	ckpts := filepath.Join(dir, "checkpoints")
	before := snapshot(t, ckpts)
	// model.safetensors is 3.7 MB: its write fails past 128 KiB.
	cmd, stderr := childEnvArgs(t, []string{fsizeEnv + "=131072"},
		"train", "--resume", dir, "--set", "train.steps=4", "--set", "output.sample_every=0")
	code := exitCodeOf(cmd.Wait())
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	last := lines[len(lines)-1]
	if code != 1 || !strings.HasPrefix(last, "gantrain: checkpoint: ") || !strings.HasSuffix(last, "model.safetensors: file too large") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if d := diffSnapshots(before, snapshot(t, ckpts)); len(d) > 0 {
		t.Errorf("checkpoints changed: %v", d)
	}
	checkLoadable(t, dir)
}

// childEnvArgs starts `gantrain args...` as a separate process with extra
// environment variables.
func childEnvArgs(t *testing.T, env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// Devices, named pipes and symbolic links given as --out are written, not
// replaced; a write error there is a one-line error.
func TestOutputToSpecialFiles(t *testing.T) {
	run := tinyRun(t, "dcgan")
	tmp := t.TempDir()
	sample := func(out string, extra ...string) (int, string, string) {
		return gantrain(t, append([]string{"sample", "--run", run, "--n", "4", "--format", "png", "--out", out}, extra...)...)
	}
	// The reference: the same output into a regular file.
	ref := filepath.Join(tmp, "ref.png")
	mustRun(t, "sample", "--run", run, "--n", "4", "--format", "png", "--out", ref)
	want := read(t, ref)

	t.Run("/dev/null", func(t *testing.T) {
		null := fsutiltest.SystemDevice(t, "/dev/null", func(p string) { sample(p) })
		if code, out, errOut := sample(null); code != 0 || out != "/dev/null\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		if k := fsutiltest.Type(t, null); k != fsutiltest.CharDevice {
			t.Fatalf("/dev/null is now %v", k)
		}
	})
	writers := func(out string) [][]string {
		return [][]string{
			{"sample", "--run", run, "--n", "4", "--format", "png", "--out", out},
			{"sample", "--run", run, "--n", "4", "--format", "npy", "--out", out},
			{"interpolate", "--run", run, "--from", "1", "--to", "2", "--steps", "3", "--format", "gif", "--out", out},
		}
	}
	full := func(t *testing.T, dev string) {
		t.Helper()
		for _, args := range writers(dev) {
			code, out, errOut := gantrain(t, args...)
			if code != 1 || out != "" || errOut != "gantrain: write "+dev+": no space left on device\n" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
			}
		}
		if k := fsutiltest.Type(t, dev); k != fsutiltest.CharDevice {
			t.Fatalf("%s is now %v", dev, k)
		}
	}
	t.Run("/dev/full", func(t *testing.T) {
		full(t, fsutiltest.SystemDevice(t, "/dev/full", func(p string) {
			for _, args := range writers(p) {
				gantrain(t, args...)
			}
		}))
	})
	t.Run("mknod", func(t *testing.T) {
		dev := filepath.Join(t.TempDir(), "full")
		if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|7); err != nil { // major 1, minor 7: full
			if errors.Is(err, syscall.EPERM) {
				t.Skipf("mknod needs root (CAP_MKNOD): %v; /dev/full was tested", err)
			}
			t.Fatal(err)
		}
		full(t, dev)
	})
	t.Run("fifo", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
		got := make(chan []byte)
		go func() {
			b, _ := os.ReadFile(fifo)
			got <- b
		}()
		if code, _, errOut := sample(fifo); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if k := fsutiltest.Type(t, fifo); k != fs.ModeNamedPipe {
			t.Fatalf("the pipe is now %v", k) // and the reader waits for ever
		}
		if b := <-got; !bytes.Equal(b, want) {
			t.Errorf("the reader got %d bytes, not the %d of the PNG", len(b), len(want))
		}
	})
	t.Run("symlink", func(t *testing.T) {
		dir := t.TempDir()
		target, link := filepath.Join(dir, "real.png"), filepath.Join(dir, "link.png")
		os.WriteFile(target, []byte("old"), 0o644)
		if err := os.Symlink("real.png", link); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := sample(link); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if k := fsutiltest.Type(t, link); k != fs.ModeSymlink {
			t.Fatalf("the link is now %v", k)
		}
		if !bytes.Equal(read(t, target), want) {
			t.Error("the link's target does not hold the PNG")
		}
	})
	// Outputs that cannot be written are refused before any work, in one
	// line, and nothing is created.
	dir := filepath.Join(tmp, "dir.png")
	os.Mkdir(dir, 0o755)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sample", "--run", run, "--format", "png", "--out", dir}, "gantrain: --out " + dir + ": is a directory\n"},
		{[]string{"sample", "--run", run, "--out", filepath.Join(tmp, "no", "x.png")}, "gantrain: --out " + filepath.Join(tmp, "no", "x.png") + ": directory " + filepath.Join(tmp, "no") + " does not exist\n"},
		{[]string{"sample", "--run", run, "--out", filepath.Join(tmp, "x.png"), "--save-z", dir}, "gantrain: --save-z " + dir + ": is a directory\n"},
		{[]string{"interpolate", "--run", run, "--from", "1", "--to", "2", "--out", dir}, "gantrain: --out " + dir + ": is a directory\n"},
		{[]string{"sample", "--run", run, "--format", "pngs", "--out", "-"}, "gantrain: --out -: --format pngs writes one file per image; give a directory, or --format png or npy\n"},
		{[]string{"sample", "--run", run, "--format", "npy", "--out", "-", "--save-z", "-"}, "gantrain: --out - and --save-z -: only one output can go to stdout\n"},
	} {
		before := snapshot(t, tmp)
		code, out, errOut := gantrain(t, c.args...)
		if code != 2 || out != "" || errOut != c.want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q, want %q", c.args, code, out, errOut, c.want)
		}
		if d := diffSnapshots(before, snapshot(t, tmp)); len(d) > 0 {
			t.Errorf("%v: files changed: %v", c.args, d)
		}
	}
}

// --out - writes the data to stdout, byte for byte what the file would
// hold, and nothing else; messages stay on stderr.
func TestOutToStdout(t *testing.T) {
	rd := tinyRun(t, "dcgan")
	tmp := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
	}{
		{"x.npy", []string{"sample", "--run", rd, "--n", "4", "--format", "npy"}},
		{"x.png", []string{"sample", "--run", rd, "--n", "4", "--format", "png"}},
		{"x.gif", []string{"interpolate", "--run", rd, "--from", "1", "--to", "2", "--steps", "3", "--format", "gif"}},
	} {
		file := filepath.Join(tmp, c.name)
		mustRun(t, append(c.args, "--out", file)...)
		code, out, errOut := gantrain(t, append(c.args, "--out", "-")...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut)
		}
		if !bytes.Equal([]byte(out), read(t, file)) {
			t.Errorf("%v --out -: %d bytes on stdout, the file holds %d", c.args, len(out), len(read(t, file)))
		}
		if strings.ContainsRune(errOut, 0) || strings.Contains(errOut, "\x89PNG") {
			t.Errorf("%v: binary data on stderr", c.args)
		}
		// And it decodes.
		var err error
		switch filepath.Ext(c.name) {
		case ".npy":
			var a *npy.Array
			if a, err = npy.ReadFloat32(strings.NewReader(out)); err == nil && !slices.Equal(a.Shape, []int{4, 1, 28, 28}) {
				t.Errorf("npy shape %v", a.Shape)
			}
		case ".png":
			_, err = png.Decode(strings.NewReader(out))
		case ".gif":
			var g *gif.GIF
			if g, err = gif.DecodeAll(strings.NewReader(out)); err == nil && len(g.Image) != 3 {
				t.Errorf("gif of %d frames, want 3", len(g.Image))
			}
		}
		if err != nil {
			t.Errorf("%v --out -: %v", c.args, err)
		}
	}

	// Through a real pipe into a reader, in a separate process.
	for _, format := range []string{"npy", "png"} {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "sample", "--run", rd, "--n", "4", "--format", format, "--out", "-")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if format == "npy" {
			var a *npy.Array
			if a, err = npy.ReadFloat32(pipe); err == nil && !slices.Equal(a.Shape, []int{4, 1, 28, 28}) {
				t.Errorf("npy shape %v", a.Shape)
			}
		} else {
			_, err = png.Decode(pipe)
		}
		rest, _ := io.ReadAll(pipe)
		if werr := cmd.Wait(); werr != nil || err != nil || len(rest) != 0 {
			t.Errorf("%s through a pipe: decode %v, exit %v, %d bytes after the data; stderr %s", format, err, werr, len(rest), &stderr)
		}
	}

	// Into /dev/null, a character device but not a terminal.
	null, err := os.OpenFile("/dev/null", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	var errOut bytes.Buffer
	if code := run([]string{"sample", "--run", rd, "--n", "4", "--format", "png", "--out", "-"}, null, &errOut); code != 0 {
		t.Errorf("--out - > /dev/null: exit %d, stderr %q", code, errOut.String())
	}
}

// A conditional model's labels go beside a file, not beside /dev/null or
// stdout: nothing is created in /dev, and stderr says where the labels are.
func TestLabelsNotBesideDevices(t *testing.T) {
	run := tinyRun(t, "cgan")
	null := fsutiltest.SystemDevice(t, "/dev/null", func(p string) {
		gantrain(t, "sample", "--run", run, "--n", "4", "--format", "npy", "--out", p)
	})
	for _, out := range []string{null, "-"} {
		code, _, errOut := gantrain(t, "sample", "--run", run, "--n", "4", "--format", "npy", "--out", out)
		if code != 0 || !strings.Contains(errOut, "no labels file beside --out "+out) {
			t.Errorf("--out %s: exit %d, stderr %q", out, code, errOut)
		}
	}
	if _, err := os.Lstat("/dev/null.labels.npy"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("/dev/null.labels.npy: %v", err)
	}
}

// --out - refuses a terminal as stdout: binary data would garble it.
func TestOutToStdoutRefusesATerminal(t *testing.T) {
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptm.Close()
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	pts, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the terminal: %v", err)
	}
	defer pts.Close()
	var errOut bytes.Buffer
	code := run([]string{"sample", "--run", filepath.Join(t.TempDir(), "none"), "--format", "png", "--out", "-"}, pts, &errOut)
	if want := "gantrain: --out -: stdout is a terminal; pipe it into a program or redirect it to a file\n"; code != 2 || errOut.String() != want {
		t.Errorf("exit %d, stderr %q, want %q", code, errOut.String(), want)
	}
}
