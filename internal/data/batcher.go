package data

import (
	"fmt"

	"github.com/gantrain/gantrain/internal/rng"
)

// shuffleStream is the rng stream for data order (and flips), distinct from
// the streams used for weights and noise so the same seed gives independent
// sequences. (Its value predates this package: it keeps old runs' order.)
const shuffleStream = 0x6d6e6973745f6f72 // "mnist_or"

// pixelScale maps a byte to [-1, 1] exactly as torchvision's ToTensor
// followed by Normalize(0.5, 0.5) does in float32.
var pixelScale = func() (t [256]float32) {
	for p := range t {
		t[p] = (float32(p)/255 - 0.5) / 0.5
	}
	return t
}()

// Batcher yields fixed-size batches from a Dataset in an order reshuffled
// every epoch. Each epoch is a fresh Fisher–Yates permutation drawn from a
// generator seeded once, so a seed fixes the whole sequence. The last
// N mod batchSize images of each permutation are dropped (the training graph
// has a fixed batch size); they differ from epoch to epoch. With flips on,
// each epoch also draws, after its permutation and from the same generator,
// one bit per image saying whether it is mirrored left-right that epoch, so
// the flips are part of the exact resume at no extra cost in the state.
type Batcher struct {
	ds        *Dataset
	batchSize int
	flip      bool
	flips     []bool // per slot of perm, when flip
	r         *rng.RNG
	// epochState is the generator state before perm was drawn.
	epochState []byte
	perm       []int
	epoch      int
	pos        int // index of the next batch within the epoch
}

// BatcherState is a Batcher's position, enough to resume exactly. It
// serialises to JSON.
type BatcherState struct {
	// Epoch is the 0-based epoch of the next batch.
	Epoch int `json:"epoch"`
	// Pos is the index of the next batch within the epoch.
	Pos int `json:"pos"`
	// BatchSize and N must match the Batcher it is restored into.
	BatchSize int `json:"batch_size"`
	N         int `json:"n"`
	// RNG is the generator state before this epoch's permutation was drawn.
	RNG []byte `json:"rng"`
	// Flip records random horizontal flips (data.flip).
	Flip bool `json:"flip,omitempty"`
}

// NewBatcher returns a Batcher over ds with the given batch size (1..ds.N)
// whose order (and flips, if flip) is determined by seed.
func NewBatcher(ds *Dataset, batchSize int, seed uint64, flip bool) (*Batcher, error) {
	return newBatcher(ds, batchSize, seed, shuffleStream, flip)
}

// NewLabeledBatcher is NewBatcher for the labelled images of a
// semi-supervised run: its order comes from another stream of the seed
// than the whole data's.
func NewLabeledBatcher(ds *Dataset, batchSize int, seed uint64, flip bool) (*Batcher, error) {
	return newBatcher(ds, batchSize, seed, labeledStream+1, flip)
}

func newBatcher(ds *Dataset, batchSize int, seed, stream uint64, flip bool) (*Batcher, error) {
	if err := ds.Check(); err != nil {
		return nil, err
	}
	if batchSize < 1 || batchSize > ds.N {
		return nil, fmt.Errorf("data: batch size %d out of range 1..%d (%s has %d images)",
			batchSize, ds.N, ds.Source, ds.N)
	}
	b := &Batcher{ds: ds, batchSize: batchSize, flip: flip, r: rng.New(seed, stream), perm: make([]int, ds.N)}
	if flip {
		b.flips = make([]bool, ds.N)
	}
	if err := b.startEpoch(); err != nil {
		return nil, err
	}
	return b, nil
}

// startEpoch records the generator state and draws a fresh permutation.
func (b *Batcher) startEpoch() error {
	st, err := b.r.MarshalBinary()
	if err != nil {
		return fmt.Errorf("data: saving shuffle state: %w", err)
	}
	b.epochState = st
	for i := range b.perm {
		b.perm[i] = i
	}
	b.r.Shuffle(b.perm)
	var bits uint64
	for i := range b.flips {
		if i%64 == 0 {
			bits = b.r.Uint64()
		}
		b.flips[i] = bits&1 == 1
		bits >>= 1
	}
	return nil
}

// BatchSize returns the number of images per batch.
func (b *Batcher) BatchSize() int { return b.batchSize }

// BatchesPerEpoch returns N / batch size; the remainder is dropped.
func (b *Batcher) BatchesPerEpoch() int { return b.ds.N / b.batchSize }

// Epoch returns the 0-based epoch the next batch belongs to.
func (b *Batcher) Epoch() int { return b.epoch }

// Pos returns the index within its epoch of the next batch.
func (b *Batcher) Pos() int { return b.pos }

// Next fills imgs (batch size × C × H × W values, image after image, each
// channel after channel, row-major) with the next batch scaled to [-1, 1],
// and labels (batch size values) with its labels unless labels is nil. It
// returns the 0-based epoch the batch belongs to.
func (b *Batcher) Next(imgs []float32, labels []int) (epoch int, err error) {
	if err := b.checkBuffers(imgs, labels); err != nil {
		return 0, err
	}
	size := b.ds.ImageSize()
	first := b.pos * b.batchSize
	idx := b.perm[first : first+b.batchSize]
	for k, i := range idx {
		dst, src := imgs[k*size:(k+1)*size], b.ds.Pixels[i*size:(i+1)*size]
		if b.flip && b.flips[first+k] {
			fillFlipped(dst, src, b.ds.W)
		} else {
			fillImage(dst, src)
		}
		if labels != nil {
			labels[k] = int(b.ds.Labels[i])
		}
	}
	epoch = b.epoch
	b.pos++
	if b.pos == b.BatchesPerEpoch() {
		b.epoch++
		b.pos = 0
		if err := b.startEpoch(); err != nil {
			return epoch, err
		}
	}
	return epoch, nil
}

// checkBuffers validates Next's destination slices.
func (b *Batcher) checkBuffers(imgs []float32, labels []int) error {
	if want := b.batchSize * b.ds.ImageSize(); len(imgs) != want {
		return fmt.Errorf("data: image buffer has %d values, want %d (%d images of %d×%d×%d)",
			len(imgs), want, b.batchSize, b.ds.C, b.ds.H, b.ds.W)
	}
	if labels == nil {
		return nil
	}
	if len(labels) != b.batchSize {
		return fmt.Errorf("data: label buffer has %d values, want %d", len(labels), b.batchSize)
	}
	if len(b.ds.Labels) != b.ds.N {
		return fmt.Errorf("data: labels requested but the dataset has none")
	}
	return nil
}

// fillImage scales one image's bytes into dst.
func fillImage(dst []float32, src []uint8) {
	for j, p := range src {
		dst[j] = pixelScale[p]
	}
}

// fillFlipped scales one image's bytes into dst, mirrored left-right: each
// row of w pixels (of every channel) reversed.
func fillFlipped(dst []float32, src []uint8, w int) {
	for r := 0; r < len(src); r += w {
		row, out := src[r:r+w], dst[r:r+w]
		for j, p := range row {
			out[w-1-j] = pixelScale[p]
		}
	}
}

// State returns the Batcher's position for a later Restore.
func (b *Batcher) State() BatcherState {
	return BatcherState{
		Epoch:     b.epoch,
		Pos:       b.pos,
		BatchSize: b.batchSize,
		N:         b.ds.N,
		RNG:       append([]byte(nil), b.epochState...),
		Flip:      b.flip,
	}
}

// Restore sets the Batcher to a position saved by State; continuing then
// yields exactly the batches the saved Batcher would have. The Batcher must
// have the same batch size and dataset size. On error b is unchanged.
func (b *Batcher) Restore(s BatcherState) error {
	if err := b.checkState(s); err != nil {
		return err
	}
	r := rng.New(0, 0)
	if err := r.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("data: restoring batcher: %w", err)
	}
	b.r = r
	b.epoch, b.pos = s.Epoch, s.Pos
	return b.startEpoch()
}

// checkState validates a saved state against b.
func (b *Batcher) checkState(s BatcherState) error {
	switch {
	case s.BatchSize != b.batchSize || s.N != b.ds.N:
		return fmt.Errorf("data: restoring batcher: state is for batch size %d over %d images, batcher has %d over %d",
			s.BatchSize, s.N, b.batchSize, b.ds.N)
	case s.Flip != b.flip:
		return fmt.Errorf("data: restoring batcher: state has data.flip %v, the config says %v", s.Flip, b.flip)
	case s.Epoch < 0:
		return fmt.Errorf("data: restoring batcher: negative epoch %d", s.Epoch)
	case s.Pos < 0 || s.Pos >= b.BatchesPerEpoch():
		return fmt.Errorf("data: restoring batcher: position %d out of range 0..%d", s.Pos, b.BatchesPerEpoch()-1)
	}
	return nil
}
