// Package nn builds gantrain's networks as gorgonia graphs out of custom ops
// (internal/kernels does the arithmetic) and runs them on tape machines.
//
// Notation: B batch; activations are batch-last, (C, H, W, B) for images
// and (F, B) for feature vectors; weights keep PyTorch's layouts.
package nn

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Param is a learnable tensor: its checkpoint name, PyTorch-layout shape and
// data. One Param is shared by every graph that uses it, so an optimiser
// step is seen by all of them.
type Param struct {
	Name string
	T    *tensor.Dense
}

// NewParam allocates a zero parameter.
func NewParam(name string, shape ...int) *Param {
	return &Param{Name: name, T: tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(shape...))}
}

// Data returns the parameter's values.
func (p *Param) Data() []float32 { return p.T.Data().([]float32) }

// Shape returns the parameter's shape.
func (p *Param) Shape() []int { return []int(p.T.Shape().Clone()) }

// Graph is one gorgonia expression graph under construction, with the
// bookkeeping gorgonia lacks: which nodes need a gradient (like PyTorch's
// requires_grad), so that no op computes a gradient nobody uses.
//
// Building errors are sticky: after the first one every method is a no-op
// returning nil, and Err reports it.
type Graph struct {
	Expr *gorgonia.ExprGraph // the gorgonia graph

	train      bool                      // batch norm uses batch statistics
	frozenBN   map[*kernels.BNStats]bool // train mode without running-stat updates
	learnable  map[*Param]bool           // params whose gradient this graph computes
	paramNodes map[*Param]*gorgonia.Node // one node per param
	need       map[*gorgonia.Node]bool   // nodes through which a gradient flows
	learnNodes []*gorgonia.Node          // in the order params were first used
	learnP     []*Param                  //
	plain      bool                      // no fused ops, no shared im2col (SetPlain)
	sn         map[*Param]*snUse         // spectrally normalised params (SpectralNorm)
	noise      *rng.RNG                  // source of GaussianNoise (SetNoise)
	err        error
}

// SetPlain makes the graph use the straightforward ops: activations as ops
// of their own after batch norm and bias, and every weight gradient
// computing its own im2col. The results match the fused ops' to float32
// round-off; tests use it to show the speed work changed no result.
func (g *Graph) SetPlain(on bool) { g.plain = on }

// NewGraph starts a graph. train selects batch statistics for batch norm (as
// PyTorch's model.train()); learn lists the params to differentiate.
func NewGraph(train bool, learn ...*Param) *Graph {
	g := &Graph{
		Expr:       gorgonia.NewGraph(),
		train:      train,
		frozenBN:   map[*kernels.BNStats]bool{},
		learnable:  map[*Param]bool{},
		paramNodes: map[*Param]*gorgonia.Node{},
		need:       map[*gorgonia.Node]bool{},
	}
	for _, p := range learn {
		g.learnable[p] = true
	}
	return g
}

// FreezeStats keeps the running statistics of these batch norms unchanged
// by this graph (used where a forward pass is repeated within one step).
func (g *Graph) FreezeStats(st ...*kernels.BNStats) {
	for _, s := range st {
		g.frozenBN[s] = true
	}
}

// ThawStats undoes FreezeStats for the batch norms added to the graph from
// now on (a graph may update them in one pass and not in another).
func (g *Graph) ThawStats(st ...*kernels.BNStats) {
	for _, s := range st {
		delete(g.frozenBN, s)
	}
}

// Err returns the first error met while building.
func (g *Graph) Err() error { return g.err }

func (g *Graph) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

// Param returns the node of p in this graph, creating it on first use
// (W/σ for a param under SpectralNorm).
func (g *Graph) Param(p *Param) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	if n, ok := g.paramNodes[p]; ok {
		return n
	}
	s := p.T.Shape()
	n := gorgonia.NewTensor(g.Expr, tensor.Float32, s.Dims(), gorgonia.WithShape(s.Clone()...), gorgonia.WithName(p.Name), gorgonia.WithValue(p.T))
	if g.learnable[p] {
		g.need[n] = true
		g.learnNodes = append(g.learnNodes, n)
		g.learnP = append(g.learnP, p)
	}
	if use, ok := g.sn[p]; ok {
		n = g.spectralNorm(n, use) // every user reads W/σ
	}
	g.paramNodes[p] = n
	return n
}

// Input makes a data input node with its own buffer; fill the returned
// slice before each run.
func (g *Graph) Input(name string, shape ...int) (*gorgonia.Node, []float32) {
	if g.err != nil {
		return nil, nil
	}
	t := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(shape...))
	n := gorgonia.NewTensor(g.Expr, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(t))
	return n, t.Data().([]float32)
}

// InputFrom makes a data input node bound to an existing tensor, so that two
// graphs can read the same buffer.
func (g *Graph) InputFrom(name string, t *tensor.Dense) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	s := t.Shape()
	n := gorgonia.NewTensor(g.Expr, tensor.Float32, s.Dims(), gorgonia.WithShape(s.Clone()...), gorgonia.WithName(name), gorgonia.WithValue(t))
	return n
}

// Apply adds an op node. The spec's DiffWRT is narrowed to the inputs that
// need a gradient; Backward is only called for those.
func (g *Graph) Apply(spec OpSpec, inputs ...*gorgonia.Node) (*gorgonia.Node, *Op) {
	if g.err != nil {
		return nil, nil
	}
	for i, in := range inputs {
		if in == nil {
			g.fail(fmt.Errorf("nn: %s: input %d is nil", spec.Name, i))
			return nil, nil
		}
	}
	need := make([]bool, len(inputs))
	any := false
	for i, in := range inputs {
		can := i < len(spec.DiffWRT) && spec.DiffWRT[i]
		need[i] = can && g.need[in]
		any = any || need[i]
	}
	spec.DiffWRT = need
	op := NewOp(spec)
	n, err := gorgonia.ApplyOp(op, inputs...)
	if err != nil {
		g.fail(fmt.Errorf("nn: %s: %w", spec.Name, err))
		return nil, nil
	}
	if any {
		g.need[n] = true
	}
	return n, op
}

// Backward differentiates the scalar cost with respect to every learnable
// param used in the graph. Call it once per graph (gorgonia reuses stored
// derivatives on a second call).
func (g *Graph) Backward(cost *gorgonia.Node) {
	if g.err != nil {
		return
	}
	if len(g.learnNodes) == 0 {
		g.fail(errors.New("nn: Backward on a graph without learnable params"))
		return
	}
	if _, err := gorgonia.Grad(cost, g.learnNodes...); err != nil {
		g.fail(fmt.Errorf("nn: gradient: %w", err))
	}
}

// Machine is a compiled graph: a gorgonia tape machine plus the params it
// differentiates.
type Machine struct {
	vm     gorgonia.VM
	params []*Param
	nodes  []*gorgonia.Node
}

// Compile makes the tape machine. It must come after Backward.
func (g *Graph) Compile() (*Machine, error) {
	if g.err != nil {
		return nil, g.err
	}
	var opts []gorgonia.VMOpt
	if len(g.learnNodes) > 0 {
		opts = append(opts, gorgonia.BindDualValues(g.learnNodes...))
	}
	if !g.train {
		opts = append(opts, gorgonia.EvalMode())
	}
	var vm gorgonia.VM
	err := catch(func() { vm = gorgonia.NewTapeMachine(g.Expr, opts...) })
	if err != nil {
		return nil, fmt.Errorf("nn: compiling graph: %w", err)
	}
	return &Machine{vm: vm, params: g.learnP, nodes: g.learnNodes}, nil
}

func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}

// Run executes the graph once (forward and, if built, backward). Gradients
// add up in the params' gradient buffers until ZeroGrad.
func (m *Machine) Run() error {
	err := m.vm.RunAll()
	m.vm.Reset()
	if err == nil {
		return nil
	}
	// Report the op that failed, not gorgonia's wrapping (which names
	// instructions and registers): the innermost OpError in the chain.
	var found *OpError
	for e := err; e != nil; e = errors.Unwrap(e) {
		if oe, ok := e.(*OpError); ok {
			found = oe
		}
	}
	if found != nil {
		return found
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return errors.New(msg)
}

// Params returns the params whose gradients this machine computes.
func (m *Machine) Params() []*Param { return m.params }

// Grads returns the gradient buffers, in the order of Params. They exist
// after the first Run.
func (m *Machine) Grads() ([][]float32, error) {
	out := make([][]float32, len(m.nodes))
	for i, n := range m.nodes {
		v, err := n.Grad()
		if err != nil {
			return nil, fmt.Errorf("nn: gradient of %s: %w", m.params[i].Name, err)
		}
		t, ok := v.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("nn: gradient of %s is %T", m.params[i].Name, v)
		}
		out[i] = t.Data().([]float32)
	}
	return out, nil
}

// Close releases the machine.
func (m *Machine) Close() error {
	if c, ok := m.vm.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// Fail records a building error from outside the package (the first one wins).
func (g *Graph) Fail(err error) { g.fail(err) }
