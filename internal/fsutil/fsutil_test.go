package fsutil

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := WriteBytes(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A failing writer leaves the old content and no temporary file.
	err := WriteFile(p, 0o644, func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte("half"), 1<<15)) // more than the buffer
		return errors.New("boom")
	})
	if err == nil || err.Error() != "write "+p+": boom" {
		t.Fatalf("error %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("content %q after a failed write", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left files behind: %v", entries)
	}
	if err := WriteBytes(p, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("content %q", b)
	}
	missing := filepath.Join(dir, "missing", "x")
	err = WriteBytes(missing, nil, 0o644)
	if err == nil || err.Error() != "create "+missing+": no such file or directory" {
		t.Fatalf("missing directory: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, syscall.EPIPE }

func TestWriteStream(t *testing.T) {
	var b bytes.Buffer
	if err := WriteStream(&b, "stdout", func(w io.Writer) error { _, err := io.WriteString(w, "data"); return err }); err != nil || b.String() != "data" {
		t.Fatalf("%q, %v", b.String(), err)
	}
	err := WriteStream(failWriter{}, "stdout", func(w io.Writer) error { _, err := io.WriteString(w, "data"); return err })
	if err == nil || err.Error() != "write stdout: broken pipe" {
		t.Fatalf("error %v", err)
	}
}
