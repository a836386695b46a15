package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/checkpoint"
)

// asideDirs lists the hidden directories train --force sets old runs
// aside in.
func asideDirs(t *testing.T, parent string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(parent, ".*.replaced-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// train --force replaces the old run: afterwards the directory holds the
// new run only, and nothing of the old one is left beside it.
func TestForceReplacesTheOldRun(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "run")
	mustRun(t, tinyArgs(dir, 4)...)
	code, out, errOut := gantrain(t, tinyArgs(dir, 2, "--force")...)
	if code != 0 || strings.TrimSpace(out) != dir {
		t.Fatalf("exit %d, stdout %q: %s", code, out, errOut)
	}
	if steps, _ := checkpoint.List(dir); !reflect.DeepEqual(steps, []int{2}) {
		t.Errorf("checkpoints %v after --force, want the new run's [2]", steps)
	}
	if ms := readMetrics(t, dir); len(ms) != 2 {
		t.Errorf("%d metrics lines, want the new run's 2", len(ms))
	}
	if _, err := os.Stat(filepath.Join(dir, "samples", "step-000004.png")); err == nil {
		t.Error("the old run's samples are still there")
	}
	if a := asideDirs(t, parent); len(a) > 0 {
		t.Errorf("the old run is left beside the new one: %v", a)
	}
}

// A forced run that fails before its first checkpoint puts the old run
// back as it was.
func TestForceRestoresTheOldRunWhenTheNewOneFails(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "run")
	mustRun(t, tinyArgs(dir, 2)...)
	before := snapshot(t, parent)
	// An MLP GAN with a learning rate of 9 diverges at step 1, before any
	// checkpoint.
	code, out, errOut := gantrain(t, tinyArgs(dir, 20, "--force", "--set", "model=gan",
		"--set", "optim.d.lr=9", "--set", "optim.g.lr=9", "--set", "output.checkpoint_every=1000")...)
	if code != 1 || out != "" || !strings.Contains(errOut, "exploded") {
		t.Fatalf("exit %d, stdout %q, stderr: %s", code, out, errOut)
	}
	if !strings.Contains(errOut, "the old run is back in "+dir) {
		t.Errorf("stderr does not say the old run is back:\n%s", errOut)
	}
	if d := diffSnapshots(before, snapshot(t, parent)); len(d) > 0 {
		t.Errorf("the old run was not restored as it was: %v", d)
	}
	checkLoadable(t, dir)
}

// What a second Ctrl-C runs before exiting puts a replaced run back when
// the new run has no checkpoint yet, and deletes it when it has one.
func TestHardExitSettlesTheReplacedRun(t *testing.T) {
	for _, newHasCheckpoint := range []bool{false, true} {
		parent := t.TempDir()
		dir := filepath.Join(parent, "run")
		for _, f := range []string{"config.yaml", "metrics.jsonl", "checkpoints/step-000004/state.json", "samples/step-000004.png"} {
			os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
			os.WriteFile(filepath.Join(dir, f), []byte("old "+f), 0o644)
		}
		os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not part of the run"), 0o644)
		before := snapshot(t, parent)
		old, err := setAside(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "checkpoints")); err == nil {
			t.Fatal("the old run's checkpoints were not set aside")
		}
		os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("new"), 0o644)
		if newHasCheckpoint {
			os.MkdirAll(filepath.Join(dir, "checkpoints", "step-000001"), 0o755)
		}
		remove := onHardExit(func() { old.settle() })
		func() {
			defer hardExit.Unlock() // runHardExit keeps the lock: the process exits
			runHardExit()
		}()
		remove()
		if a := asideDirs(t, parent); len(a) > 0 {
			t.Errorf("new run with a checkpoint %v: %v left beside the run", newHasCheckpoint, a)
		}
		d := diffSnapshots(before, snapshot(t, parent))
		if !newHasCheckpoint && len(d) > 0 {
			t.Errorf("the old run was not put back as it was: %v", d)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "not part of the run" {
			t.Errorf("a file that is not part of the run was touched: %q", b)
		}
		if newHasCheckpoint {
			if _, err := os.Stat(filepath.Join(dir, "checkpoints", "step-000004")); err == nil {
				t.Error("the old run's checkpoint is still there beside the new one's")
			}
		}
	}
}
