package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/mnist"
	"github.com/spf13/cobra"
)

// heldOutFraction of a data set is kept out of the classifier's training
// to measure it.
const heldOutFraction = 0.1

type classifierTrainOptions struct {
	*streams
	OutFile    string
	Epochs     int
	Seed       uint64
	ConfigPath string
	Sets       []string
	Rotation   bool
}

func newClassifierCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "classifier",
		Short: "Train or test the classifiers that gantrain eval measures with",
		Long: `gantrain eval measures samples in the feature space of a small
classifier. For MNIST it is embedded in the binary
(internal/classifier/weights/mnist-classifier.safetensors); for any other
data, "classifier train --config F" trains one on the config's data and
stores it, keyed by the data's content, where eval and train's eval.every
find it.`,
	}
	o := &classifierTrainOptions{streams: s}
	train := &cobra.Command{
		Use:   "train [--config FILE [--rotation]] [--out FILE]",
		Short: "Train the evaluation classifier (MNIST, or the config's data) and write its weights",
		Long: `Without --config: train the MNIST classifier on the MNIST training set,
report its test accuracy and write its weights to --out.

With --config: load the config's data (data.*) as train does, hold out 10%
of it, train the same kind of network for its shape and classes, report
the accuracy on the held-out images (and on the test split of mnist and
fashion-mnist), and store the weights in <cache>/classifiers/ (data.cache,
else the user cache directory) under a name keyed by the data's content,
or in --out. Unlabelled data (a folder without class folders, IDX without
labels), or --rotation, trains the self-supervised task of telling which
of 0°, 90°, 180°, 270° an image was turned by (Gidaris et al. 2018): its
features serve the Fréchet distance and precision/recall; eval then
reports the class metrics as null.`,
		Example: `  gantrain classifier train --out internal/classifier/weights/mnist-classifier.safetensors
  gantrain classifier train --config configs/emoji-dcgan.yaml
  gantrain classifier train --set data.name=fashion-mnist`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("config") || cmd.Flags().Changed("set") || o.Rotation {
				if !cmd.Flags().Changed("out") {
					o.OutFile = ""
				}
				return runClassifierTrainData(o)
			}
			return runClassifierTrainMNIST(o)
		},
	}
	f := train.Flags()
	f.StringVar(&o.OutFile, "out", "mnist-classifier.safetensors", "weights file to write, or - for stdout (with --config: default the classifier store)")
	f.IntVar(&o.Epochs, "epochs", 0, "epochs (0: 8 for MNIST, else enough for about 2,000 steps, 8 to 30)")
	f.Uint64Var(&o.Seed, "seed", classifier.DefaultTrainOptions.Seed, "seed")
	f.StringVarP(&o.ConfigPath, "config", "c", "", "YAML configuration whose data to train on")
	f.StringArrayVar(&o.Sets, "set", nil, "override a configuration key: --set data.name=fashion-mnist (repeatable)")
	f.BoolVar(&o.Rotation, "rotation", false, "train the rotation task even on labelled data")

	var weights string
	test := &cobra.Command{
		Use:   "test [--weights FILE]",
		Short: "Print the classifier's accuracy on the MNIST test set",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			net, err := loadClassifier(weights)
			if err != nil {
				return err
			}
			if net.Shape != classifier.MNIST {
				return usagef("--weights %s: a classifier of %d×%d×%d images and %d classes, not MNIST's", weights, net.Shape.C, net.Shape.H, net.Shape.W, net.Shape.K)
			}
			_, te, err := mnistSplits()
			if err != nil {
				return err
			}
			ev, err := classifier.NewRunner(net, 100)
			if err != nil {
				return err
			}
			defer ev.Close()
			acc, err := ev.Accuracy(te)
			if err != nil {
				return err
			}
			return json.NewEncoder(s.Out).Encode(map[string]any{"test_accuracy": acc})
		},
	}
	test.Flags().StringVar(&weights, "weights", "", "weights file (default: the embedded ones)")
	cmd.AddCommand(train, test)
	return cmd
}

func runClassifierTrainMNIST(o *classifierTrainOptions) error {
	if o.Epochs < 0 {
		return usagef("--epochs must be ≥ 1 (or 0 for the default)")
	}
	if err := o.checkOut("--out", o.OutFile); err != nil {
		return err
	}
	tr, te, err := mnistSplits()
	if err != nil {
		return err
	}
	opt := classifier.DefaultTrainOptions
	if o.Epochs > 0 {
		opt.Epochs = o.Epochs
	}
	opt.Seed, opt.Log = o.Seed, o.ErrOut
	net, acc, err := classifier.Train(tr, te, opt)
	if err != nil {
		return err
	}
	if err := o.writeOut(o.OutFile, net.Encode); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "gantrain: test accuracy %.4f; weights written to %s\n", acc, o.OutFile)
	if o.OutFile == stdoutName {
		return nil
	}
	return json.NewEncoder(o.Out).Encode(map[string]any{"test_accuracy": acc, "weights": o.OutFile})
}

// classifierEpochs is the default number of epochs for n training images:
// about 2,000 steps of 64, between 8 and 30 epochs.
func classifierEpochs(n int) int {
	return min(max((2000*64+n-1)/n, 8), 30)
}

func runClassifierTrainData(o *classifierTrainOptions) error {
	if o.Epochs < 0 {
		return usagef("--epochs must be ≥ 1 (or 0 for the default)")
	}
	cfg, err := loadConfig(configSources{File: o.ConfigPath, Sets: o.Sets})
	if err != nil {
		return err
	}
	if o.OutFile != "" {
		if err := o.checkOut("--out", o.OutFile); err != nil {
			return err
		}
		if cfg.Data.Path != "" && data.Inside(o.OutFile, cfg.Data.Path) {
			return usagef("--out %s is inside the data folder %s, which gantrain never writes", o.OutFile, cfg.Data.Path)
		}
	}
	ds, err := loadData(&cfg, o.streams)
	if err != nil {
		return err
	}
	rotation := o.Rotation || !ds.Labelled()
	shape := classifier.Shape{C: ds.C, H: ds.H, W: ds.W, K: max(ds.NumClasses(), 2)}
	if rotation {
		shape.K = 4
	}
	if err := shape.Check(); err != nil {
		return usagef("data %s: %v", ds.Source, err)
	}
	if ds.N < 20 {
		return usagef("data %s: %d images; the classifier needs at least 20", ds.Source, ds.N)
	}
	mode := classifier.ModeLabels
	if rotation {
		mode = classifier.ModeRotation
	}
	out := o.OutFile
	if out == "" {
		dir := classifier.StoreDir(cfg.Data.Cache)
		if dir == "" {
			return usagef("no user cache directory to store the classifier in; give --out FILE or set data.cache")
		}
		if data.Inside(dir, cfg.Data.Path) && cfg.Data.Path != "" {
			return usagef("the classifier store %s is inside the data folder %s, which gantrain never writes; set data.cache elsewhere", dir, cfg.Data.Path)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("classifier store: %w", err)
		}
		out = filepath.Join(dir, classifier.StoreName(ds, mode))
	}
	tr, held := classifier.Split(ds, heldOutFraction, o.Seed)
	opt := classifier.DefaultTrainOptions
	opt.Epochs = classifierEpochs(tr.N)
	if cfg.Data.Name == "mnist" {
		opt.Epochs = classifier.DefaultTrainOptions.Epochs
	}
	if o.Epochs > 0 {
		opt.Epochs = o.Epochs
	}
	opt.DecayEpochs = min(opt.DecayEpochs, opt.Epochs-1)
	if opt.Epochs >= 20 {
		opt.DecayEpochs = opt.Epochs / 5
	}
	opt.Flip = cfg.Data.Name != "mnist" && !rotation
	opt.Rotation, opt.Seed, opt.Log = rotation, o.Seed, o.ErrOut
	fmt.Fprintf(o.ErrOut, "gantrain: training a %s classifier on %d images of %d×%d×%d (%d held out), %d epochs\n",
		mode, tr.N, ds.C, ds.H, ds.W, held.N, opt.Epochs)
	net, acc, err := classifier.TrainData(tr, held, opt)
	if err != nil {
		return err
	}
	net.Meta["data_key"] = classifier.DataKey(ds)
	net.Meta["data_source"] = ds.Source
	net.Meta["held_out_accuracy"] = fmt.Sprintf("%.4f", acc)
	if b, err := json.Marshal(ds.Classes); err == nil && !rotation {
		net.Meta["classes"] = string(b)
	}
	res := map[string]any{"mode": mode, "held_out": held.N, "held_out_accuracy": acc, "classes": net.Shape.K, "data_key": net.Meta["data_key"]}
	if !rotation {
		if te, ok := testSplit(cfg.Data, ds); ok {
			ev, err := classifier.NewRunner(net, 100)
			if err != nil {
				return err
			}
			tacc, err := ev.AccuracyData(te)
			ev.Close()
			if err != nil {
				return err
			}
			res["test_accuracy"] = tacc
			net.Meta["test_accuracy"] = fmt.Sprintf("%.4f", tacc)
			fmt.Fprintf(o.ErrOut, "gantrain: test accuracy %.4f on the %d images of %s's test split\n", tacc, te.N, cfg.Data.Name)
		}
	}
	if err := o.writeOut(out, net.Encode); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "gantrain: held-out accuracy %.4f (%s); weights written to %s\n", acc, mode, out)
	if out == stdoutName {
		return nil
	}
	res["weights"] = out
	return json.NewEncoder(o.Out).Encode(res)
}

// testSplit loads the test split of mnist and fashion-mnist when it has the
// training data's shape (the data is used at 28×28×1).
func testSplit(d config.Data, ds *data.Dataset) (*data.Dataset, bool) {
	if (d.Name != "mnist" && d.Name != "fashion-mnist") || ds.C != 1 || ds.H != 28 || ds.W != 28 {
		return nil, false
	}
	dir := d.Path
	if dir == "" {
		dir = filepath.Dir(ds.Source)
		if fi, err := os.Stat(ds.Source); err == nil && fi.IsDir() {
			dir = ds.Source
		}
	}
	m, err := mnist.Load(dir, "test")
	if err != nil || m.Rows != 28 || m.Cols != 28 {
		return nil, false
	}
	te := data.FromMNIST(m)
	te.Classes = ds.Classes
	return te, true
}

func loadClassifier(path string) (*classifier.Net, error) {
	if path == "" {
		return classifier.Default()
	}
	return classifier.LoadFile(path)
}

// mnistSplits loads the real MNIST training and test sets.
func mnistSplits() (*mnist.Dataset, *mnist.Dataset, error) {
	tr, err := loadMNIST("train")
	if err != nil {
		return nil, nil, err
	}
	te, err := loadMNIST("test")
	if err != nil {
		return nil, nil, err
	}
	return tr, te, nil
}
