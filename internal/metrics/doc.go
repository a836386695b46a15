// Package metrics scores generated samples on the features and class
// probabilities of a classifier (here a small MNIST network): the Fréchet
// distance between Gaussian fits of the features (FID-style), the
// classifier ("Inception") score, class histograms with their number of
// modes and KL divergence to uniform, improved precision and recall
// (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020), and
// the accuracy of a conditional generator.
//
// Matrices are flat row-major []float64 with an explicit column count d (or
// k for class probabilities): row i of x is x[i*d : (i+1)*d] and there are
// len(x)/d rows; a length that is not a multiple of d is an error. Convert
// float32 network outputs once with a loop; every accumulation here is in
// float64.
//
// PRDC computes all its pairwise distances tile by tile on the thread count
// of internal/parallel, with an AVX2/FMA kernel on amd64 CPUs that have it
// and a portable Go kernel elsewhere.
package metrics
