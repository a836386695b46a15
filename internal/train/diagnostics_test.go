package train

import (
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/evaluate"
	"github.com/gantrain/gantrain/internal/models"
)

func TestDiagnostics(t *testing.T) {
	var warnings []string
	d := &diagnostics{warn: func(s string) { warnings = append(warnings, s) }}
	// D(G(z)) below 0.05 for a while, interrupted once: no warning yet.
	for s := 1; s <= dWinsWindow-1; s++ {
		if err := d.step(s, Losses{DFake: 0.01}, models.BCE); err != nil {
			t.Fatal(err)
		}
	}
	d.step(dWinsWindow, Losses{DFake: 0.2}, models.BCE)
	if len(warnings) != 0 {
		t.Fatalf("warned too early: %v", warnings)
	}
	for s := dWinsWindow + 1; s <= 3*dWinsWindow; s++ {
		d.step(s, Losses{DFake: 0.01}, models.BCE)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "discriminator is winning") {
		t.Fatalf("warnings %v, want one about the discriminator winning", warnings)
	}
	// WGAN critic values are not probabilities: no such warning.
	w := &diagnostics{warn: func(s string) { t.Errorf("WGAN warned: %s", s) }}
	for s := 1; s <= 2*dWinsWindow; s++ {
		w.step(s, Losses{DFake: -3}, models.Wasserstein)
	}
	// Mode collapse, reported once.
	rep := func(modes int, kl float64) *evaluate.Report {
		return &evaluate.Report{Modes: &modes, KLUniform: &kl, Classes: 10}
	}
	d.eval(500, rep(3, 1.4), 2000)
	d.eval(1000, rep(2, 1.6), 2000)
	d.eval(1500, rep(10, 0.01), 2000)
	d.eval(1600, &evaluate.Report{}, 2000) // rotation classifier: no class metrics, no warning
	if len(warnings) != 2 || !strings.Contains(warnings[1], "mode collapse") || !strings.Contains(warnings[1], "3 of 10 classes") {
		t.Fatalf("warnings %v", warnings)
	}
	// Exploding losses stop training.
	if err := d.step(5000, Losses{LossD: 0.5, LossG: 3e4}, models.BCE); err == nil || !strings.Contains(err.Error(), "exploded") {
		t.Fatalf("exploding loss: %v", err)
	}
	// sgan: a large feature-matching distance is no explosion; D's loss is.
	if err := d.step(5001, Losses{LossD: 0.5, LossG: 3e4}, models.SemiSupervised); err != nil {
		t.Errorf("feature matching of 3e4: %v", err)
	}
	if err := d.step(5002, Losses{LossD: 2e4, LossG: 10}, models.SemiSupervised); err == nil || !strings.Contains(err.Error(), "exploded") {
		t.Errorf("sgan loss_d 2e4: %v", err)
	}
}
