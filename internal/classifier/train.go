package classifier

import (
	"fmt"
	"io"
	"time"

	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/losses"
	"github.com/gantrain/gantrain/internal/mnist"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/optim"
	"github.com/gantrain/gantrain/internal/rng"
)

// TrainOptions configure Train.
type TrainOptions struct {
	Epochs, Batch int
	LR            float64
	// DecayEpochs is how many final epochs run at LR/10.
	DecayEpochs int
	// Shift moves each training image by up to this many pixels in x and y
	// (filled with −1, the background of digits): augmentation against
	// overfitting.
	Shift int
	// Flip mirrors half the training images left-right (not for digits).
	Flip bool
	// Rotation trains the self-supervised rotation task (ModeRotation)
	// instead of the data's labels.
	Rotation bool
	Seed     uint64
	Log      io.Writer
}

// DefaultTrainOptions reach ≥ 99% test accuracy on MNIST.
var DefaultTrainOptions = TrainOptions{Epochs: 8, Batch: 64, LR: 1e-3, DecayEpochs: 2, Shift: 2, Seed: 1}

// Train fits a new MNIST classifier on train with Adam and reports the
// accuracy on test after every epoch; it returns the net and its final
// test accuracy.
func Train(train, test *mnist.Dataset, o TrainOptions) (*Net, float64, error) {
	n, acc, err := TrainData(data.FromMNIST(train), data.FromMNIST(test), o)
	if n != nil {
		delete(n.Meta, "mode") // the file's metadata as the shipped one's
	}
	return n, acc, err
}

// TrainData fits a new classifier on train with Adam, for train's shape and
// classes (or the four rotations with o.Rotation), and reports the accuracy
// on held (the held-out images, of the same shape) after every epoch; it
// returns the net and its final held-out accuracy. With o.Rotation the
// accuracy is that of telling the rotation of every held-out image turned
// by each of the four angles.
func TrainData(train, held *data.Dataset, o TrainOptions) (*Net, float64, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if err := train.Check(); err != nil {
		return nil, 0, err
	}
	if held.C != train.C || held.H != train.H || held.W != train.W {
		return nil, 0, fmt.Errorf("classifier: held-out images %d×%d×%d, training images %d×%d×%d", held.C, held.H, held.W, train.C, train.H, train.W)
	}
	shape := Shape{C: train.C, H: train.H, W: train.W, K: 4}
	if !o.Rotation {
		if !train.Labelled() || !held.Labelled() {
			return nil, 0, fmt.Errorf("classifier: %s is unlabelled; train the rotation task instead", train.Source)
		}
		shape.K = max(train.NumClasses(), 2)
	}
	net, err := NewShape(shape, rng.New(o.Seed, 1))
	if err != nil {
		return nil, 0, err
	}
	net.Meta["mode"] = ModeLabels
	if o.Rotation {
		net.Meta["mode"] = ModeRotation
	}
	size := shape.Size()
	g := nn.NewGraph(true, net.Params()...)
	x, xb := g.Input("images", shape.C, shape.H, shape.W, o.Batch)
	y, yb := g.Input("labels", o.Batch)
	_, logits := net.Forward(g, x)
	loss, st := losses.CrossEntropy(g, logits, y)
	g.Backward(loss)
	m, err := g.Compile()
	if err != nil {
		return nil, 0, err
	}
	defer m.Close()
	opt := &optim.Adam{LR: o.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	aug := rng.New(o.Seed, 2)
	batcher, err := data.NewBatcher(train, o.Batch, o.Seed, o.Flip)
	if err != nil {
		return nil, 0, err
	}
	imgs := make([]float32, o.Batch*size)
	labels := make([]int, o.Batch)
	batchLabels := labels
	if o.Rotation {
		batchLabels = nil
	}
	params := make([][]float32, len(m.Params()))
	for i, p := range m.Params() {
		params[i] = p.Data()
	}
	ev, err := NewRunner(net, 100)
	if err != nil {
		return nil, 0, err
	}
	defer ev.Close()
	acc := 0.0
	for epoch := 0; epoch < o.Epochs; epoch++ {
		start := time.Now()
		if epoch == o.Epochs-o.DecayEpochs {
			opt.LR = o.LR / 10
		}
		var sumLoss, sumAcc float64
		n := batcher.BatchesPerEpoch()
		for i := 0; i < n; i++ {
			if _, err := batcher.Next(imgs, batchLabels); err != nil {
				return nil, 0, err
			}
			if o.Shift > 0 {
				shift(imgs, o.Batch, shape, o.Shift, aug)
			}
			if o.Rotation {
				for j := range labels {
					labels[j] = aug.IntN(4)
					img := imgs[j*size : (j+1)*size]
					copy(img, Rotate(img, shape.C, shape.H, labels[j]))
				}
			}
			kernels.ToBatchLast(imgs, xb, size, o.Batch)
			for j, l := range labels {
				yb[j] = float32(l)
			}
			if err := m.Run(); err != nil {
				return nil, 0, fmt.Errorf("classifier: epoch %d: %w", epoch+1, err)
			}
			grads, err := m.Grads()
			if err != nil {
				return nil, 0, err
			}
			if err := opt.Step(params, grads); err != nil {
				return nil, 0, err
			}
			sumLoss += st.Loss
			sumAcc += st.Mean
		}
		if acc, err = ev.AccuracyData(held); err != nil {
			return nil, 0, err
		}
		fmt.Fprintf(o.Log, "epoch %d: loss %.4f, train accuracy %.4f, held-out accuracy %.4f (%s)\n",
			epoch+1, sumLoss/float64(n), sumAcc/float64(n), acc, time.Since(start).Round(time.Second))
	}
	return net, acc, nil
}

// shift moves each C×H×W image by a random offset in [−k, k]² in place,
// filling with the background value −1.
func shift(imgs []float32, b int, s Shape, k int, r *rng.RNG) {
	size, h, w := s.Size(), s.H, s.W
	tmp := make([]float32, size)
	for i := 0; i < b; i++ {
		img := imgs[i*size : (i+1)*size]
		dx, dy := r.IntN(2*k+1)-k, r.IntN(2*k+1)-k
		for j := range tmp {
			tmp[j] = -1
		}
		for c := 0; c < s.C; c++ {
			src, dst := img[c*h*w:(c+1)*h*w], tmp[c*h*w:(c+1)*h*w]
			for y := 0; y < h; y++ {
				sy := y - dy
				if sy < 0 || sy >= h {
					continue
				}
				for x := 0; x < w; x++ {
					if sx := x - dx; sx >= 0 && sx < w {
						dst[y*w+x] = src[sy*w+sx]
					}
				}
			}
		}
		copy(img, tmp)
	}
}

// Rotate returns a C×n×n image turned counter-clockwise by q quarter turns
// (each channel alike).
func Rotate(img []float32, c, n, q int) []float32 {
	out := make([]float32, len(img))
	q = ((q % 4) + 4) % 4
	for ch := 0; ch < c; ch++ {
		src, dst := img[ch*n*n:(ch+1)*n*n], out[ch*n*n:(ch+1)*n*n]
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				// the pixel at (y, x) of the output comes from (sy, sx)
				sy, sx := y, x
				switch q {
				case 1: // counter-clockwise: out[y][x] = in[x][n−1−y]
					sy, sx = x, n-1-y
				case 2:
					sy, sx = n-1-y, n-1-x
				case 3:
					sy, sx = n-1-x, y
				}
				dst[y*n+x] = src[sy*n+sx]
			}
		}
	}
	return out
}
