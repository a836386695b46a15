package control

import (
	"errors"
	"fmt"
	"math"

	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Notation: B rows (starting z), Z latent size, F attributes, K classes.
//
// The graph: z (Z, B), a learnable parameter of this graph only → the
// frozen generator in evaluation mode → images (C, H, W, B) → the
// attribute op (F, B) and, if there is a classifier, its logits (K, B) →
// the objective op, a scalar. One backward pass gives ∇z of the objective.

// Options configure a Controller.
type Options struct {
	Target   Feature
	Decrease bool // descend instead of ascend
	// Scale s_f of each attribute (Attrs order) and of the target; the
	// target's score enters the objective as score/s_target.
	Scale       []float64
	TargetScale float64
	Batch       int   // B
	Labels      []int // conditional models: the class of each row (len B)
}

// Controller evaluates the objective and its gradient with respect to z
// for a batch of latent vectors.
type Controller struct {
	model *models.GAN
	opt   Options
	attrs []Attr
	b     int

	m      *nn.Machine
	z      *nn.Param
	labels []float32
	img    *G.Node
	attrOp *nn.Op
	attr64 []float64 // (F, B): the attribute op's values before rounding to float32
	logits *G.Node   // nil without a classifier
	obj    *objective
}

// Mode selects what the objective op computes, summed over the rows:
// TargetMode the target's score (negated with Decrease, divided by its
// scale), ClassMode log p(c_r | x_r) for each row's reference class c_r
// (SetClasses), and Mode(i) ≥ 0 attribute i of Attrs. The last two give
// the gradients of the features that --keep holds.
type Mode int

const (
	TargetMode Mode = -1
	ClassMode  Mode = -2
)

// objective holds what the objective op reads.
type objective struct {
	mode    Mode
	classes []int // reference class of each row, ClassMode
	target  int   // attribute index, or −1 for a class
	class   int
	sign    float64
	last    float64 // the objective of the last run, in float64
}

// Step is the result of one evaluation, row-major over the B rows.
type Step struct {
	Images []float32 // (B, C·H·W) in [−1, 1]
	Attrs  []float64 // (B, F), in the order of Controller.Attrs
	LogP   []float64 // (B, K) log-probabilities, nil without a classifier
	Score  []float64 // (B) the target feature (not standardised, not negated)
	Grad   []float32 // (B, Z) ∇z of the objective
	// Objective is the objective summed over the rows (float64).
	Objective float64
}

// New compiles the controller. clf may be nil when no classifier applies;
// then class targets and ClassMode are unavailable.
func New(model *models.GAN, clf *classifier.Net, opt Options) (*Controller, error) {
	b := opt.Batch
	if b < 1 {
		return nil, fmt.Errorf("control: batch %d", b)
	}
	if opt.Target.IsClass() && clf == nil {
		return nil, errors.New("control: a class feature needs a classifier")
	}
	if clf != nil && (model.C != 1 || model.H != 28 || model.W != 28) {
		return nil, fmt.Errorf("control: the classifier takes 1×28×28 images, the model makes %d×%d×%d", model.C, model.H, model.W)
	}
	if model.Conditional && len(opt.Labels) != b {
		return nil, fmt.Errorf("control: %d labels for %d rows of a conditional model", len(opt.Labels), b)
	}
	attrs := Attrs(model.C)
	if len(opt.Scale) != len(attrs) || !(opt.TargetScale > 0) {
		return nil, fmt.Errorf("control: %d attribute scales for %d attributes, target scale %v", len(opt.Scale), len(attrs), opt.TargetScale)
	}
	c := &Controller{model: model, opt: opt, attrs: attrs, b: b}
	c.obj = &objective{mode: TargetMode, target: -1, class: opt.Target.Class, sign: 1}
	if opt.Decrease {
		c.obj.sign = -1
	}
	if !opt.Target.IsClass() {
		for i, a := range attrs {
			if a == opt.Target.Attr {
				c.obj.target = i
			}
		}
		if c.obj.target < 0 {
			return nil, fmt.Errorf("control: feature %s is not defined for %d-channel images", opt.Target, model.C)
		}
	}
	c.z = nn.NewParam("z", model.Latent, b)
	g := nn.NewGraph(false, c.z)
	zn := g.Param(c.z)
	var y *G.Node
	if model.Conditional {
		y, c.labels = g.Input("labels", b)
		for i, l := range opt.Labels {
			if l < 0 || l >= model.Classes {
				return nil, fmt.Errorf("control: label %d out of range [0, %d)", l, model.Classes)
			}
			c.labels[i] = float32(l)
		}
	}
	c.img = model.G.Forward(g, zn, y) // (C, H, W, B)
	if g.Err() != nil {
		return nil, g.Err()
	}
	var an *G.Node
	an, c.attrOp = c.attrNode(g, c.img)
	var logits *G.Node
	if clf != nil {
		_, logits = clf.Forward(g, c.img) // (K, B)
		c.logits = logits
	}
	cost := c.objectiveNode(g, an, logits)
	g.Backward(cost)
	m, err := g.Compile()
	if err != nil {
		return nil, err
	}
	c.m = m
	return c, nil
}

// Attrs lists the attributes the controller computes, in Step.Attrs order.
func (c *Controller) Attrs() []Attr { return c.attrs }

// Close releases the compiled graph.
func (c *Controller) Close() error { return c.m.Close() }

// attrNode adds the attribute op: images (C, H, W, B) → (F, B).
func (c *Controller) attrNode(g *nn.Graph, img *G.Node) (*G.Node, *nn.Op) {
	ch, h, w, b := c.model.C, c.model.H, c.model.W, c.b
	pix := ch * h * w
	f := len(c.attrs)
	is := tensor.Shape{ch, h, w, b}
	// Per-row gradients, kept from the forward op for the backward op of
	// the same run.
	grads := make([][][]float64, b)
	for i := range grads {
		grads[i] = make([][]float64, f)
		for k := range grads[i] {
			grads[i][k] = make([]float64, pix)
		}
	}
	c.attr64 = make([]float64, f*b)
	n, op := g.Apply(nn.OpSpec{
		Name: "attributes", In: []tensor.Shape{is}, Out: tensor.Shape{f, b}, DiffWRT: []bool{true},
		Forward: func(in [][]float32, out []float32) error {
			x := in[0]
			parallel.For(b, 1, func(lo, hi int) {
				img := make([]float64, pix)
				val := make([]float64, f)
				for r := lo; r < hi; r++ {
					for k := 0; k < pix; k++ {
						img[k] = float64(x[k*b+r])
					}
					Values(img, ch, h, w, c.attrs, val, grads[r])
					for k, v := range val {
						out[k*b+r] = float32(v)
						c.attr64[k*b+r] = v
					}
				}
			})
			return nil
		},
		Backward: func(_ []bool, in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
			dx, _ := g.Apply(nn.OpSpec{
				Name: "attributes_grad", In: []tensor.Shape{{f, b}, is}, Out: is,
				Forward: func(v [][]float32, dx []float32) error {
					d := v[0]
					parallel.For(b, 1, func(lo, hi int) {
						for r := lo; r < hi; r++ {
							for k := 0; k < pix; k++ {
								s := 0.0
								for a := 0; a < f; a++ {
									s += float64(d[a*b+r]) * grads[r][a][k]
								}
								dx[k*b+r] = float32(s)
							}
						}
					})
					return nil
				},
			}, dy, in[0]) // in[0]: orders it after the forward op
			return G.Nodes{dx}, g.Err()
		},
	}, img)
	return n, op
}

// objectiveNode adds the scalar objective (summed over the rows).
func (c *Controller) objectiveNode(g *nn.Graph, an, logits *G.Node) *G.Node {
	f, b := len(c.attrs), c.b
	o, opt := c.obj, c.opt
	k := 0
	in := []*G.Node{an}
	shapes := []tensor.Shape{{f, b}}
	if logits != nil {
		k = logits.Shape()[0]
		in = append(in, logits)
		shapes = append(shapes, tensor.Shape{k, b})
	}
	// grad computes the objective and its derivatives with respect to the
	// attributes (F, B) and the logits (K, B).
	// The attribute values are read in float64 from c.attr64 (written by
	// the attribute op, an input of this op, so earlier in the same run).
	eval := func(_, l []float32, da, dl []float32) float64 {
		a := c.attr64
		j := 0.0
		logp := make([]float64, k)
		// dlogp sets dl for ∂(w·log p_c)/∂logits = w·(onehot(c) − p).
		dlogp := func(r, class int, w float64) {
			if dl == nil {
				return
			}
			for c := 0; c < k; c++ {
				d := -math.Exp(logp[c])
				if c == class {
					d++
				}
				dl[c*b+r] = float32(w * d)
			}
		}
		for r := 0; r < b; r++ {
			if k > 0 {
				logSoftmax(l, r, b, logp)
			}
			switch {
			case o.mode >= 0:
				j += a[int(o.mode)*b+r]
				if da != nil {
					da[int(o.mode)*b+r] = 1
				}
			case o.mode == ClassMode:
				j += logp[o.classes[r]]
				dlogp(r, o.classes[r], 1)
			case o.target >= 0:
				j += o.sign * a[o.target*b+r] / opt.TargetScale
				if da != nil {
					da[o.target*b+r] = float32(o.sign / opt.TargetScale)
				}
			default:
				j += o.sign * logp[o.class] / opt.TargetScale
				dlogp(r, o.class, o.sign/opt.TargetScale)
			}
		}
		return j
	}
	n, _ := g.Apply(nn.OpSpec{
		Name: "control_objective", In: shapes, Out: nil, DiffWRT: []bool{true, true},
		Forward: func(v [][]float32, out []float32) error {
			var l []float32
			if k > 0 {
				l = v[1]
			}
			o.last = eval(v[0], l, nil, nil)
			out[0] = float32(o.last)
			return nil
		},
		Backward: func(need []bool, v G.Nodes, _, dy *G.Node) (G.Nodes, error) {
			// One op computes both derivatives; (F+K, B), split below.
			both, _ := g.Apply(nn.OpSpec{
				Name: "control_objective_grad", In: append(append([]tensor.Shape{}, shapes...), nil), Out: tensor.Shape{f + k, b},
				Forward: func(v [][]float32, d []float32) error {
					clear(d)
					var l []float32
					if k > 0 {
						l = v[1]
					}
					s := v[len(v)-1][0]
					eval(v[0], l, d[:f*b], d[f*b:])
					for i := range d {
						d[i] *= s
					}
					return nil
				},
			}, append(append(G.Nodes{}, v...), dy)...)
			grads := make(G.Nodes, len(v))
			for i := range v {
				if !need[i] {
					continue
				}
				lo, rows := 0, f
				if i == 1 {
					lo, rows = f*b, k
				}
				grads[i], _ = g.Apply(nn.OpSpec{
					Name: fmt.Sprintf("control_objective_grad%d", i), In: []tensor.Shape{{f + k, b}}, Out: tensor.Shape{rows, b},
					Forward: func(v [][]float32, d []float32) error {
						copy(d, v[0][lo:lo+rows*b])
						return nil
					},
				}, both)
			}
			return grads, g.Err()
		},
	}, in...)
	return n
}

// logSoftmax writes log-softmax of column r of l (K, B) into out.
func logSoftmax(l []float32, r, b int, out []float64) {
	mx := math.Inf(-1)
	for c := range out {
		mx = math.Max(mx, float64(l[c*b+r]))
	}
	s := 0.0
	for c := range out {
		s += math.Exp(float64(l[c*b+r]) - mx)
	}
	ls := mx + math.Log(s)
	for c := range out {
		out[c] = float64(l[c*b+r]) - ls
	}
}

// Eval runs the graph at z (B, Z) and returns the images, features and ∇z.
func (c *Controller) Eval(z []float32) (*Step, error) {
	zd, b := c.model.Latent, c.b
	if len(z) != zd*b {
		return nil, fmt.Errorf("control: %d latent values for %d rows of %d", len(z), b, zd)
	}
	kernels.ToBatchLast(z, c.z.Data(), zd, b)
	if err := c.m.Run(); err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	gs, err := c.m.Grads()
	if err != nil {
		return nil, err
	}
	f := len(c.attrs)
	pix := c.model.C * c.model.H * c.model.W
	st := &Step{Images: make([]float32, b*pix), Attrs: make([]float64, b*f), Score: make([]float64, b), Grad: make([]float32, b*zd), Objective: c.obj.last}
	kernels.FromBatchLast(c.img.Value().Data().([]float32), st.Images, pix, b)
	kernels.FromBatchLast(gs[0], st.Grad, zd, b)
	clear(gs[0]) // gradients would add up over runs
	for r := 0; r < b; r++ {
		for i := 0; i < f; i++ {
			st.Attrs[r*f+i] = c.attr64[i*b+r]
		}
	}
	if c.logits != nil {
		l := c.logits.Value().Data().([]float32)
		k := c.logits.Shape()[0]
		st.LogP = make([]float64, b*k)
		for r := 0; r < b; r++ {
			logSoftmax(l, r, b, st.LogP[r*k:(r+1)*k])
		}
	}
	for r := 0; r < b; r++ {
		if c.obj.target >= 0 {
			st.Score[r] = st.Attrs[r*f+c.obj.target]
		} else {
			k := len(st.LogP) / b
			st.Score[r] = st.LogP[r*k+c.obj.class]
		}
	}
	return st, nil
}

// SetMode selects what the next Eval differentiates (see Mode).
func (c *Controller) SetMode(m Mode) error {
	switch {
	case m == ClassMode && (c.logits == nil || len(c.obj.classes) != c.b):
		return errors.New("control: ClassMode needs a classifier and SetClasses")
	case m >= 0 && int(m) >= len(c.attrs), m < ClassMode:
		return fmt.Errorf("control: mode %d", m)
	}
	c.obj.mode = m
	return nil
}

// SetClasses sets the reference class of each row for ClassMode.
func (c *Controller) SetClasses(classes []int) { c.obj.classes = append([]int(nil), classes...) }

// HasClassifier reports whether the graph includes the classifier.
func (c *Controller) HasClassifier() bool { return c.logits != nil }
