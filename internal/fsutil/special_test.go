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

	"github.com/gantrain/gantrain/internal/fsutil/fsutiltest"
)

func TestWriteFileDevices(t *testing.T) {
	// /dev/null takes the bytes and stays a device.
	write := func(p string) { WriteBytes(p, bytes.Repeat([]byte{1}, 1<<20), 0o644) }
	null := fsutiltest.SystemDevice(t, "/dev/null", write)
	if err := WriteBytes(null, bytes.Repeat([]byte{1}, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if k := fsutiltest.Type(t, null); k != fsutiltest.CharDevice {
		t.Fatalf("/dev/null is now %v", k)
	}
	// /dev/full fails with ENOSPC, named in one line, and stays a device.
	full := fsutiltest.SystemDevice(t, "/dev/full", write)
	err := WriteBytes(full, []byte("x"), 0o644)
	if !errors.Is(err, syscall.ENOSPC) || err.Error() != "write /dev/full: no space left on device" {
		t.Fatalf("/dev/full: %v", err)
	}
	if k := fsutiltest.Type(t, full); k != fsutiltest.CharDevice {
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
	if k := fsutiltest.Type(t, full); k != fsutiltest.CharDevice {
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
	if k := fsutiltest.Type(t, fifo); k != fs.ModeNamedPipe {
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
	if k := fsutiltest.Type(t, fifo); k != fs.ModeNamedPipe {
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
	if k := fsutiltest.Type(t, sock); k != fs.ModeSocket {
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
		if k := fsutiltest.Type(t, p); k != fs.ModeSymlink {
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
	if b, _ := os.ReadFile(filepath.Join(dir, "new.txt")); string(b) != "new" || fsutiltest.Type(t, dangling) != fs.ModeSymlink {
		t.Fatalf("dangling link: target %q, link %v", b, fsutiltest.Type(t, dangling))
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
	if fsutiltest.Type(t, piplink) != fs.ModeSymlink || fsutiltest.Type(t, fifo) != fs.ModeNamedPipe {
		t.Fatalf("link %v, pipe %v", fsutiltest.Type(t, piplink), fsutiltest.Type(t, fifo))
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
	if entries, _ := os.ReadDir(dir); len(entries) != 2 || fsutiltest.Type(t, sub) != fs.ModeDir {
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
