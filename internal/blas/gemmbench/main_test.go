package main

import (
	"slices"
	"testing"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/train"
)

// TestShapesAreTheModels checks that the shape lists gemmbench times are the
// products the two DCGANs' training steps call, as `gantrain bench` records
// them (one iteration, batch 64): a model change that alters its products
// must change the lists, or the GEMM table would measure shapes no model
// runs.
func TestShapesAreTheModels(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: one 64 px training iteration takes seconds")
	}
	for _, c := range []struct {
		name        string
		size, chans int
		list        []shape
	}{{"28 px MNIST", 28, 1, dcgan28}, {"64 px colour", 64, 3, dcgan64}} {
		cfg := config.Default() // the paper's DCGAN, batch 64, width 64
		cfg.Data.Size, cfg.Data.Channels = c.size, c.chans
		cfg.Train.Threads = 1
		res, err := train.Bench(cfg, nil, 1, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, g := range res.GEMM {
			got = append(got, g.Shape)
		}
		for _, s := range c.list {
			want = append(want, s.String())
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the training step calls\n%q\ngemmbench times\n%q", c.name, got, want)
		}
	}
}
