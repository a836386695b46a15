package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestBenchReportsProductsAndProfile runs `gantrain bench` on the paper's
// DCGAN for two iterations: its JSON lists the step's matrix products by
// shape, with calls that add up to what one D and one G step run, and
// --cpuprofile writes a profile go tool pprof reads (gzip-compressed
// protobuf).
func TestBenchReportsProductsAndProfile(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	code, stdout, errOut := gantrain(t, "bench", "--config", "../../configs/dcgan-paper.yaml",
		"--set", "train.batch_size=8", "--set", "train.threads=1", "--iters", "2", "--warmup", "1", "--cpuprofile", prof)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		MsPerIter     float64 `json:"ms_per_iter"`
		GEMMMsPerIter float64 `json:"gemm_ms_per_iter"`
		GEMM          []struct {
			Shape        string  `json:"shape"`
			CallsPerIter float64 `json:"calls_per_iter"`
		} `json:"gemm"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	calls := map[string]float64{}
	for _, g := range res.GEMM {
		calls[g.Shape] = g.CallsPerIter
	}
	// D.conv2's forward at batch 8 (128 channels × 8·7·7 outputs × 64·16
	// inputs): D on the real batch, on the fake one, and in G's step; the
	// same shape is G.up1's input gradient in G's step.
	if got := calls["NN 128×392×1024"]; got != 4 {
		t.Errorf("NN 128×392×1024: %v calls per iteration, want 4 (all: %v)", got, calls)
	}
	if res.GEMMMsPerIter <= 0 || res.GEMMMsPerIter > res.MsPerIter {
		t.Errorf("matrix products %.2f ms of a %.2f ms iteration", res.GEMMMsPerIter, res.MsPerIter)
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not a gzip-compressed profile: %v", prof, err)
	}
	if n, err := io.Copy(io.Discard, zr); err != nil || n == 0 {
		t.Fatalf("%s: %d bytes after gzip, err %v", prof, n, err)
	}
}
