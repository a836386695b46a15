package main

import (
	"encoding/json"
	"fmt"

	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/mnist"
	"github.com/spf13/cobra"
)

func newClassifierCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "classifier",
		Short: "Train or test the MNIST classifier that gantrain eval measures with",
		Long: `gantrain eval measures samples in the feature space of a small MNIST
classifier whose weights are embedded in the binary
(internal/classifier/weights/mnist-classifier.safetensors). These commands
reproduce and check them.`,
	}
	var out string
	var epochs int
	var seed uint64
	train := &cobra.Command{
		Use:     "train [--out FILE]",
		Short:   "Train the classifier on MNIST and write its weights",
		Example: `  gantrain classifier train --out internal/classifier/weights/mnist-classifier.safetensors`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if epochs < 1 {
				return usagef("--epochs must be ≥ 1")
			}
			if err := s.checkOut("--out", out); err != nil {
				return err
			}
			tr, te, err := mnistSplits()
			if err != nil {
				return err
			}
			o := classifier.DefaultTrainOptions
			o.Epochs, o.Seed, o.Log = epochs, seed, s.ErrOut
			net, acc, err := classifier.Train(tr, te, o)
			if err != nil {
				return err
			}
			if err := s.writeOut(out, net.Encode); err != nil {
				return err
			}
			fmt.Fprintf(s.ErrOut, "gantrain: test accuracy %.4f; weights written to %s\n", acc, out)
			if out == stdoutName {
				return nil
			}
			return json.NewEncoder(s.Out).Encode(map[string]any{"test_accuracy": acc, "weights": out})
		},
	}
	train.Flags().StringVar(&out, "out", "mnist-classifier.safetensors", "weights file to write, or - for stdout")
	train.Flags().IntVar(&epochs, "epochs", classifier.DefaultTrainOptions.Epochs, "epochs")
	train.Flags().Uint64Var(&seed, "seed", classifier.DefaultTrainOptions.Seed, "seed")

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
