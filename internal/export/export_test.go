package export

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetricsUpTo(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "metrics.jsonl")
	os.WriteFile(p, []byte("{\"step\":10,\"loss_d\":1}\n{\"step\":20}\n{\"step\":30}\n"), 0o644)
	b, err := metricsUpTo(p, 20)
	if err != nil || string(b) != "{\"step\":10,\"loss_d\":1}\n{\"step\":20}\n" {
		t.Errorf("got %q, %v", b, err)
	}
	if b, err := metricsUpTo(filepath.Join(dir, "none"), 20); err != nil || b != nil {
		t.Errorf("missing file: %q, %v", b, err)
	}
	os.WriteFile(p, []byte("{\"step\":10}\nnot json\n"), 0o644)
	var bi BadInput
	if _, err := metricsUpTo(p, 20); !errors.As(err, &bi) || !strings.Contains(err.Error(), p) {
		t.Errorf("a broken line: %v", err)
	}
}

func TestCheckEmptyDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "empty"), 0o755)
	for path, ok := range map[string]bool{
		filepath.Join(dir, "new"):        true,
		filepath.Join(dir, "empty"):      true,
		dir:                              false, // holds f
		filepath.Join(dir, "f"):          false, // a file
		filepath.Join(dir, "no", "such"): false, // no parent
		"":                               false,
	} {
		if err := checkEmptyDir(path); (err == nil) != ok {
			t.Errorf("checkEmptyDir(%q) = %v", path, err)
		}
	}
}

// writeDir leaves nothing behind when filling fails, and replaces an empty
// directory.
func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out")
	if err := writeDir(target, func(tmp string) error {
		os.WriteFile(filepath.Join(tmp, "x"), nil, 0o644)
		return errors.New("fail")
	}); err == nil {
		t.Fatal("no error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
	os.Mkdir(target, 0o755)
	if err := writeDir(target, func(tmp string) error { return os.WriteFile(filepath.Join(tmp, "x"), nil, 0o644) }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, "x")); err != nil {
		t.Error(err)
	}
}
