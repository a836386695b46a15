//go:build unix

package fsutil

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// kind is the type bits of a file's mode, not following a last link.
func kind(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Type()
}

const charDevice = fs.ModeDevice | fs.ModeCharDevice

// systemDevice returns dev (/dev/null, /dev/full) for a test to write to,
// once write has kept a private copy of it, made with mknod, a device: as
// root, a regression that replaced devices would otherwise replace the
// system's. Should it be replaced anyway, the cleanup puts it back.
func systemDevice(t *testing.T, dev string, write func(path string)) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(dev, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFCHR {
		t.Fatalf("%s is not a character device: %v", dev, err)
	}
	private := filepath.Join(t.TempDir(), filepath.Base(dev))
	switch err := syscall.Mknod(private, syscall.S_IFCHR|0o666, int(st.Rdev)); {
	case errors.Is(err, syscall.EPERM):
		// Not root: nor can the test replace the system's device.
	case err != nil:
		t.Fatal(err)
	default:
		write(private)
		if k := kind(t, private); k != charDevice {
			t.Fatalf("a write replaced a device (mknod %s) by a %v; not writing to %s", private, k, dev)
		}
	}
	t.Cleanup(func() {
		if fi, err := os.Lstat(dev); err == nil && fi.Mode().Type() == charDevice {
			return
		}
		tmp := dev + ".restore"
		if err := syscall.Mknod(tmp, syscall.S_IFCHR|0o666, int(st.Rdev)); err == nil {
			os.Rename(tmp, dev)
		}
		t.Errorf("%s was replaced; restored it", dev)
	})
	return dev
}

func TestWriteFileDevices(t *testing.T) {
	// /dev/null takes the bytes and stays a device.
	write := func(p string) { WriteBytes(p, bytes.Repeat([]byte{1}, 1<<20), 0o644) }
	null := systemDevice(t, "/dev/null", write)
	if err := WriteBytes(null, bytes.Repeat([]byte{1}, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if k := kind(t, null); k != charDevice {
		t.Fatalf("/dev/null is now %v", k)
	}
	// /dev/full fails with ENOSPC, named in one line, and stays a device.
	full := systemDevice(t, "/dev/full", write)
	err := WriteBytes(full, []byte("x"), 0o644)
	if !errors.Is(err, syscall.ENOSPC) || err.Error() != "write /dev/full: no space left on device" {
		t.Fatalf("/dev/full: %v", err)
	}
	if k := kind(t, full); k != charDevice {
		t.Fatalf("/dev/full is now %v", k)
	}
	if err := Check(full); err != nil {
		t.Errorf("Check(/dev/full): %v", err)
	}
}

// A character device of our own, made with mknod: the same.
func TestWriteFileMknodDevice(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	if err := syscall.Mknod(full, syscall.S_IFCHR|0o666, 1<<8|7); err != nil { // major 1, minor 7: full
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("mknod needs root (CAP_MKNOD): %v; TestWriteFileDevices tests /dev/null and /dev/full", err)
		}
		t.Fatal(err)
	}
	err := WriteBytes(full, []byte("x"), 0o644)
	if !errors.Is(err, syscall.ENOSPC) || !strings.HasPrefix(err.Error(), "write "+full+": ") {
		t.Fatalf("mknod full: %v", err)
	}
	if k := kind(t, full); k != charDevice {
		t.Fatalf("the device is now %v", k)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("left files behind: %v", entries)
	}
}

func TestWriteFileNamedPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("gantrain"), 100_000) // more than a pipe buffer
	got := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	if err := WriteBytes(fifo, want, 0o644); err != nil {
		t.Fatal(err)
	}
	if k := kind(t, fifo); k != fs.ModeNamedPipe {
		t.Fatalf("the pipe is now %v", k) // and the reader waits for ever
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("the reader got %d bytes, want %d", len(b), len(want))
	}

	// A reader that goes away: EPIPE, in one line naming the pipe.
	go func() {
		f, err := os.Open(fifo)
		if err == nil {
			f.Close()
		}
	}()
	err := WriteBytes(fifo, want, 0o644)
	if !errors.Is(err, syscall.EPIPE) || err.Error() != "write "+fifo+": broken pipe" {
		t.Fatalf("closed reader: %v", err)
	}
	if k := kind(t, fifo); k != fs.ModeNamedPipe {
		t.Fatalf("the pipe is now %v", k)
	}
}

func TestWriteFileSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []byte)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(c)
		c.Close()
		got <- b
	}()
	if err := WriteBytes(sock, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if k := kind(t, sock); k != fs.ModeSocket {
		t.Fatalf("the socket is now %v", k)
	}
	if b := <-got; string(b) != "hello" {
		t.Fatalf("the socket got %q", b)
	}
}

func TestWriteFileSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.txt")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A relative link, and a link to that link.
	link := filepath.Join(dir, "link.txt")
	link2 := filepath.Join(dir, "link2.txt")
	if err := os.Symlink("real.txt", link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(link, link2); err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{link, link2} {
		content := []string{"via link", "via link2"}[i]
		if err := WriteBytes(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if k := kind(t, p); k != fs.ModeSymlink {
			t.Fatalf("%s is now %v", p, k)
		}
		if b, _ := os.ReadFile(target); string(b) != content {
			t.Fatalf("target holds %q, want %q", b, content)
		}
	}
	// A dangling link: its target is created.
	dangling := filepath.Join(dir, "dangling.txt")
	if err := os.Symlink("new.txt", dangling); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(dangling, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "new.txt")); string(b) != "new" || kind(t, dangling) != fs.ModeSymlink {
		t.Fatalf("dangling link: target %q, link %v", b, kind(t, dangling))
	}
	// A link to a named pipe: written in place; both stay what they are.
	fifo, piplink := filepath.Join(dir, "fifo"), filepath.Join(dir, "fifolink")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("fifo", piplink); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	if err := WriteBytes(piplink, []byte("piped"), 0o644); err != nil {
		t.Fatal(err)
	}
	if kind(t, piplink) != fs.ModeSymlink || kind(t, fifo) != fs.ModeNamedPipe {
		t.Fatalf("link %v, pipe %v", kind(t, piplink), kind(t, fifo))
	}
	if b := <-got; string(b) != "piped" {
		t.Fatalf("the pipe's reader got %q", b)
	}
	// A loop of links is an error, not a hang.
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink("loop", loop); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(loop, nil, 0o644); !errors.Is(err, syscall.ELOOP) {
		t.Fatalf("loop: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 8 {
		t.Fatalf("files: %v", entries)
	}
}

func TestWriteFileDirectory(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "out.png")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.png")
	if err := os.Symlink("out.png", link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{sub, link} {
		if err := Check(p); !errors.Is(err, syscall.EISDIR) {
			t.Errorf("Check(%s): %v", p, err)
		}
		err := WriteBytes(p, []byte("x"), 0o644)
		if !errors.Is(err, syscall.EISDIR) || err.Error() != "write "+p+": is a directory" {
			t.Errorf("%s: %v", p, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 || kind(t, sub) != fs.ModeDir {
		t.Fatalf("files: %v", entries)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct {
		path string
		err  error
	}{
		{filepath.Join(dir, "new.png"), nil},
		{file, nil},
		{"/dev/null", nil},
		{filepath.Join(dir, "no", "x.png"), syscall.ENOENT},
		{filepath.Join(file, "x.png"), syscall.ENOTDIR},
		{dir, syscall.EISDIR},
	} {
		if err := Check(c.path); !errors.Is(err, c.err) || (err == nil) != (c.err == nil) {
			t.Errorf("Check(%s) = %v, want %v", c.path, err, c.err)
		}
	}
}
