//go:build unix

// Package fsutiltest helps tests write to the system's devices safely.
package fsutiltest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// CharDevice is the type of a character device's mode.
const CharDevice = fs.ModeDevice | fs.ModeCharDevice

// Type is the type bits of p's mode, not following a last symbolic link.
func Type(t testing.TB, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Type()
}

// SystemDevice returns dev (/dev/null, /dev/full) for a test to write to,
// once write has kept a private copy of it, made with mknod, a device: as
// root, a regression that replaced devices would otherwise replace the
// system's. Should it be replaced anyway, the cleanup puts it back.
func SystemDevice(t testing.TB, dev string, write func(path string)) string {
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
		if k := Type(t, private); k != CharDevice {
			t.Fatalf("a write replaced a device (mknod %s) by a %v; not writing to %s", private, k, dev)
		}
	}
	t.Cleanup(func() {
		if fi, err := os.Lstat(dev); err == nil && fi.Mode().Type() == CharDevice {
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
