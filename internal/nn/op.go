package nn

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// opIDs makes every op instance unique: gorgonia hash-conses nodes with equal
// op hashes and children, and two of our ops may hold different state (their
// output buffer, batch-norm statistics) even where their inputs match.
var opIDs atomic.Uint64

// Op is a gorgonia operation implemented by a Go function on float32 slices.
//
// All shapes are fixed when the graph is built, so the output buffer is
// allocated once and reused by every run: no per-step allocation. The buffer
// belongs to the op; a backward op receives what it needs as graph inputs,
// except small saved values (batch-norm statistics) that the forward op of
// the same run has just written.
type Op struct {
	id       uint64
	name     string
	inShapes []tensor.Shape // nil entry: scalar input
	outShape tensor.Shape   // nil: scalar output
	diffWRT  []bool

	// fwd computes the output from the inputs; scalar inputs arrive as
	// one-element slices. For a scalar output, out has one element.
	fwd func(in [][]float32, out []float32) error
	// back builds the gradient nodes of the inputs (nil where not needed).
	back func(need []bool, in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error)

	out    *tensor.Dense
	outBuf []float32
}

// OpSpec describes an Op for NewOp.
type OpSpec struct {
	Name     string
	In       []tensor.Shape // nil entry for a scalar input
	Out      tensor.Shape   // nil for a scalar output
	DiffWRT  []bool         // which inputs get a gradient; nil: none
	Forward  func(in [][]float32, out []float32) error
	Backward func(need []bool, in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error)
}

// NewOp makes an Op from its spec.
func NewOp(s OpSpec) *Op {
	op := &Op{id: opIDs.Add(1), name: s.Name, inShapes: s.In, outShape: s.Out, fwd: s.Forward, back: s.Backward}
	op.diffWRT = make([]bool, len(s.In))
	copy(op.diffWRT, s.DiffWRT)
	n := 1
	if s.Out != nil {
		n = s.Out.TotalSize()
	}
	op.outBuf = make([]float32, n)
	if s.Out != nil {
		op.out = tensor.New(tensor.WithShape(s.Out.Clone()...), tensor.WithBacking(op.outBuf))
	}
	return op
}

// OpError is an error from an op's computation, e.g. a NaN loss.
type OpError struct {
	Op  string
	Err error
}

func (e *OpError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *OpError) Unwrap() error { return e.Err }

// Output returns the op's output buffer (valid after the op has run).
func (op *Op) Output() []float32 { return op.outBuf }

func tensorType(s tensor.Shape, a hm.TypeVariable) hm.Type {
	if s == nil {
		return a
	}
	return gorgonia.TensorType{Dims: s.Dims(), Of: a}
}

// Arity implements gorgonia.Op.
func (op *Op) Arity() int { return len(op.inShapes) }

// Type implements gorgonia.Op.
func (op *Op) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, len(op.inShapes)+1)
	for _, s := range op.inShapes {
		ts = append(ts, tensorType(s, a))
	}
	ts = append(ts, tensorType(op.outShape, a))
	return hm.NewFnType(ts...)
}

// InferShape implements gorgonia.Op; it also checks the input shapes.
func (op *Op) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if len(in) != len(op.inShapes) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op.name, len(in), len(op.inShapes))
	}
	for i, ds := range in {
		want := op.inShapes[i]
		s, ok := ds.(tensor.Shape)
		if !ok {
			continue
		}
		if want == nil {
			if !s.IsScalar() && s.TotalSize() != 1 {
				return nil, fmt.Errorf("%s: input %d has shape %v, want a scalar", op.name, i, s)
			}
			continue
		}
		if !s.Eq(want) {
			return nil, fmt.Errorf("%s: input %d has shape %v, want %v", op.name, i, s, want)
		}
	}
	if op.outShape == nil {
		return tensor.ScalarShape(), nil
	}
	return op.outShape.Clone(), nil
}

// Do implements gorgonia.Op.
func (op *Op) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	in := make([][]float32, len(vals))
	for i, v := range vals {
		switch t := v.(type) {
		case *tensor.Dense:
			f, ok := t.Data().([]float32)
			if !ok {
				return nil, fmt.Errorf("%s: input %d is %v, want float32", op.name, i, t.Dtype())
			}
			if want := op.inShapes[i]; want != nil && len(f) != want.TotalSize() {
				return nil, fmt.Errorf("%s: input %d has %d elements, want %d", op.name, i, len(f), want.TotalSize())
			}
			in[i] = f
		case *gorgonia.F32:
			in[i] = []float32{float32(*t)}
		default:
			return nil, fmt.Errorf("%s: input %d is %T, want float32 tensor or scalar", op.name, i, v)
		}
	}
	if err := op.fwd(in, op.outBuf); err != nil {
		return nil, &OpError{Op: op.name, Err: err}
	}
	if op.outShape == nil {
		return gorgonia.NewF32(op.outBuf[0]), nil
	}
	return op.out, nil
}

// ReturnsPtr implements gorgonia.Op.
func (op *Op) ReturnsPtr() bool { return false }

// CallsExtern implements gorgonia.Op.
func (op *Op) CallsExtern() bool { return false }

// OverwritesInput implements gorgonia.Op.
func (op *Op) OverwritesInput() int { return -1 }

// WriteHash implements gorgonia.Op.
func (op *Op) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s#%d", op.name, op.id) }

// Hashcode implements gorgonia.Op.
func (op *Op) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *Op) String() string { return op.name }

// DiffWRT implements gorgonia.SDOp.
func (op *Op) DiffWRT(int) []bool { return op.diffWRT }

// SymDiff implements gorgonia.SDOp.
func (op *Op) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.back == nil {
		return nil, fmt.Errorf("%s is not differentiable", op.name)
	}
	gs, err := op.back(op.diffWRT, in, out, grad)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.name, err)
	}
	if len(gs) != len(in) {
		return nil, fmt.Errorf("%s: backward returned %d gradients for %d inputs", op.name, len(gs), len(in))
	}
	return gs, nil
}
