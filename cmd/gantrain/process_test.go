package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/rng"
)

// The test binary doubles as the gantrain binary for child processes.
const childEnv = "GOTEST_RUN_GANTRAIN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// child starts `gantrain args...` as a separate process.
func child(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// waitFor polls until cond holds (or fails the test after 60 s).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func exitCodeOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// checkLoadable asserts that the newest checkpoint of a run loads.
func checkLoadable(t *testing.T, dir string) *checkpoint.Checkpoint {
	t.Helper()
	latest, err := checkpoint.Latest(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := checkpoint.Read(latest)
	if err != nil {
		t.Fatalf("newest checkpoint does not load: %v", err)
	}
	m, _ := models.New(c.State.Model, c.State.Config.LatentDim, rng.New(1, 1))
	if err := c.LoadModel(m); err != nil {
		t.Fatalf("newest checkpoint does not load: %v", err)
	}
	return c
}

// SIGINT finishes the step, writes a checkpoint, says how to resume and
// exits 130; SIGTERM does the same with 143.
func TestSignalWritesCheckpoint(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			cmd, stderr := child(t, tinyArgs(dir, 100000, "--set", "output.checkpoint_every=3")...)
			waitFor(t, "a first checkpoint", func() bool { s, _ := checkpoint.List(dir); return len(s) > 0 })
			cmd.Process.Signal(sig)
			code := exitCodeOf(cmd.Wait())
			want := map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143}[sig]
			if code != want {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, want, stderr)
			}
			if !strings.Contains(stderr.String(), "gantrain train --resume "+dir) {
				t.Errorf("stderr does not say how to resume:\n%s", stderr)
			}
			c := checkLoadable(t, dir)
			ms := readMetrics(t, dir)
			if c.State.Step != int(ms[len(ms)-1]["step"]) {
				t.Errorf("checkpoint at step %d, last logged step %v: the interrupted step was not saved", c.State.Step, ms[len(ms)-1]["step"])
			}
			// And the run continues.
			if code, _, errOut := gantrain(t, "train", "--resume", dir, "--set", "train.steps="+itoa(c.State.Step+2)); code != 0 {
				t.Fatalf("resume: %s", errOut)
			}
		})
	}
}

// kill -9 at any moment, checkpoints in progress included, leaves the
// newest complete checkpoint loadable, and the run resumable.
func TestKillDuringCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	for round := 0; round < 3; round++ {
		var cmd *exec.Cmd
		if round == 0 {
			cmd, _ = child(t, tinyArgs(dir, 100000, "--set", "output.checkpoint_every=1")...)
		} else {
			cmd, _ = child(t, "train", "--resume", dir, "--set", "train.steps=100000")
		}
		// Kill while a checkpoint is being written: a temporary directory
		// exists. (Polling may miss some; the invariant holds at any moment.)
		before, _ := checkpoint.List(dir)
		waitFor(t, "checkpoints being written", func() bool {
			entries, _ := os.ReadDir(filepath.Join(dir, "checkpoints"))
			steps, _ := checkpoint.List(dir)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".tmp-") && len(steps) > len(before)+round {
					return true
				}
			}
			return false
		})
		cmd.Process.Kill()
		cmd.Wait()
		checkLoadable(t, dir)
	}
	c := checkLoadable(t, dir)
	if code, _, errOut := gantrain(t, "train", "--resume", dir, "--set", "train.steps="+itoa(c.State.Step+2)); code != 0 {
		t.Fatalf("resume after kill -9: %s", errOut)
	}
}

// A second Ctrl-C exits at once, without waiting for the checkpoint the
// first one asked for, and the checkpoints already written stay loadable.
//
// "At once" is made testable without a clock: the child's stdout is a full
// pipe that nobody reads, and an interrupted run prints its directory on
// stdout after its checkpoint, so the normal end of the run blocks forever.
// Only the immediate path of the second signal can end the process.
func TestSecondInterruptExitsAtOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fillPipe(t, w)
	cmd := exec.Command(exe, tinyArgs(dir, 100000, "--set", "output.checkpoint_every=2")...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdout = w
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()

	waitFor(t, "a first checkpoint", func() bool { s, _ := checkpoint.List(dir); return len(s) > 0 })
	cmd.Process.Signal(syscall.SIGINT)
	// The second signal goes only once the first has been taken (two
	// signals sent back to back can merge into one).
	waitFor(t, "the first signal to be taken", func() bool { return strings.Contains(stderr.String(), "finishing the step") })
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		if code := exitCodeOf(err); code != 130 {
			t.Fatalf("exit %d, want 130; stderr:\n%s", code, stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("still running a minute after the second signal: it waits for the end of the run; stderr:\n%s", stderr)
	}
	if !strings.Contains(stderr.String(), "second signal, exiting without a checkpoint") {
		t.Errorf("stderr does not say it exits at once:\n%s", stderr)
	}
	checkLoadable(t, dir)
}

// fillPipe writes into w until its pipe buffer is full, so that the next
// write blocks.
func fillPipe(t *testing.T, w *os.File) {
	t.Helper()
	fd := int(w.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	buf := bytes.Repeat([]byte{'x'}, 4096)
	for {
		if _, err := syscall.Write(fd, buf); err == syscall.EAGAIN {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		t.Fatal(err)
	}
}

// lockedBuffer is a bytes.Buffer that a child's output can be copied into
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// train.precision: bf16 where it cannot run (made so here by forcing the
// generic kernel, as on a CPU without AVX-512) is refused before anything
// is written: exit 2, one line naming the key and the reason, and no
// output directory.
func TestBF16RefusedWhereItCannotRun(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(exe, "train", "--set", "train.precision=bf16", "--set", "output.dir="+out, "--set", "train.steps=2")
	cmd.Env = append(os.Environ(), childEnv+"=1", "GEMM_KERNEL=generic")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	msg := strings.TrimSpace(stderr.String())
	if code := exitCodeOf(err); code != 2 {
		t.Fatalf("exit %d, want 2 (stderr %q)", code, msg)
	}
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "train.precision: bf16 cannot run here") {
		t.Fatalf("stderr %q: want one line naming train.precision: bf16 and why", msg)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("%s was created (stat: %v)", out, err)
	}
	t.Log(msg)
}
