package main

import (
	"encoding/json"

	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/imgio"
	"github.com/spf13/cobra"
)

type dataOptions struct {
	*streams
	ConfigPath string
	Sets       []string
	OutFile    string
	PerRow     int
}

// dataSummary is the JSON line `gantrain data` prints.
type dataSummary struct {
	Images   int      `json:"images"`
	Classes  []string `json:"classes"`
	Counts   []int    `json:"counts"`
	Size     int      `json:"size"`
	Channels int      `json:"channels"`
	Skipped  int      `json:"skipped"`
	Cache    string   `json:"cache"`
	Grid     string   `json:"grid,omitempty"`
}

func newDataCmd(s *streams) *cobra.Command {
	o := &dataOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "data [--config FILE] [--set key=value]... [--out grid.png]",
		Short: "Show the training data exactly as train would see it",
		Long: `Load the data of a configuration (data.*) as train would: find, decode,
skip broken files, resize, crop and convert, through the cache of decoded
images. Print one JSON line on stdout: images, classes ([] when
unlabelled), counts (images per class), size, channels, skipped (files
left out; the first few are named on stderr) and cache (the cache file, ""
when none is used).

--out writes a PNG grid of preprocessed images: one row per class for
labelled data, picked evenly through each class.`,
		Example: `  gantrain data --set data.name=fashion-mnist --out fashion.png
  gantrain data --set data.name=folder --set data.path=data/emoji --out emoji.png
  gantrain data --config configs/dcgan.yaml --set data.name=folder --set data.path=~/photos --set data.size=28 --set data.channels=1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runData(o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "", "YAML configuration file (default: built-in defaults)")
	f.StringArrayVar(&o.Sets, "set", nil, "override a configuration key: --set data.size=64 (repeatable)")
	f.StringVarP(&o.OutFile, "out", "o", "", "write a PNG grid of preprocessed images here")
	f.IntVar(&o.PerRow, "per-row", 10, "images per row of the grid")
	return cmd
}

func runData(o *dataOptions) error {
	if o.PerRow < 1 || o.PerRow > 100 {
		return usagef("--per-row must be between 1 and 100, got %d", o.PerRow)
	}
	cfg, err := loadConfig(configSources{File: o.ConfigPath, Sets: o.Sets})
	if err != nil {
		return err
	}
	if o.OutFile != "" {
		if err := checkDataOut(o.OutFile, cfg.Data.Path); err != nil {
			return err
		}
	}
	ds, rep, err := data.Load(cfg.Data, data.LoadOptions{BatchSize: cfg.Train.BatchSize, Progress: o.ErrOut, Bar: o.IsTerminal})
	if err != nil {
		return err
	}
	sum := dataSummary{Images: ds.N, Classes: ds.Classes, Counts: ds.Counts(), Size: ds.H, Channels: ds.C,
		Skipped: len(rep.Skipped), Cache: rep.Cache}
	if sum.Classes == nil {
		sum.Classes, sum.Counts = []string{}, []int{}
	}
	if o.OutFile != "" {
		if err := imgio.WritePNG(o.OutFile, data.Grid(ds, o.PerRow, 64)); err != nil {
			return err
		}
		sum.Grid = o.OutFile
	}
	enc := json.NewEncoder(o.Out)
	enc.SetEscapeHTML(false) // "Food & Drink", not "Food \u0026 Drink"
	return enc.Encode(sum)
}

// checkDataOut refuses an output file checkOutFile refuses, "-" (stdout
// carries the JSON line), or a path inside the data folder (never written).
func checkDataOut(out, dataPath string) error {
	if out == "-" {
		return usagef("--out -: stdout carries the JSON line; give a file name")
	}
	if err := checkOutFile("--out", out); err != nil {
		return err
	}
	if dataPath != "" && data.Inside(out, dataPath) {
		return usagef("--out %s is inside the data folder %s, which gantrain never writes", out, dataPath)
	}
	return nil
}
