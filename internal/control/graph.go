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
	// Keep adds the penalty Σ_f ((a_f − a_f⁰)/s_f)² over the other
	// attributes and, unless the target is a class, KeepClass·KL(p⁰ ‖ p)
	// between the classifier's class probabilities at the start and now.
	Keep      bool
	KeepClass float64
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
	logits *G.Node // nil without a classifier
	obj    *objective
}

// objective holds what the objective op reads: the reference values of
// the step-0 images once keep is on.
type objective struct {
	keep   bool
	a0     []float64 // (F, B)
	p0     []float64 // (K, B)
	target int       // attribute index, or −1 for a class
	class  int
	sign   float64
	last   float64 // the objective of the last run, in float64
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
// then class targets and the class part of Keep are unavailable.
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
	c.obj = &objective{target: -1, class: opt.Target.Class, sign: 1}
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
	eval := func(a, l []float32, da, dl []float32) float64 {
		j := 0.0
		logp := make([]float64, k)
		for r := 0; r < b; r++ {
			if k > 0 {
				logSoftmax(l, r, b, logp)
			}
			if o.target >= 0 {
				j += o.sign * float64(a[o.target*b+r]) / opt.TargetScale
				if da != nil {
					da[o.target*b+r] = float32(o.sign / opt.TargetScale)
				}
			} else {
				j += o.sign * logp[o.class] / opt.TargetScale
				if dl != nil {
					for c := 0; c < k; c++ {
						d := -math.Exp(logp[c])
						if c == o.class {
							d++
						}
						dl[c*b+r] = float32(o.sign * d / opt.TargetScale)
					}
				}
			}
			if !o.keep {
				continue
			}
			for i := 0; i < f; i++ {
				if i == o.target {
					continue
				}
				d := (float64(a[i*b+r]) - o.a0[i*b+r]) / opt.Scale[i]
				j -= d * d
				if da != nil {
					da[i*b+r] = float32(-2 * d / opt.Scale[i])
				}
			}
			if k > 0 && o.target >= 0 && opt.KeepClass > 0 {
				// KL(p⁰ ‖ p) = Σ p⁰ (log p⁰ − log p); ∂/∂logit = p − p⁰.
				for c := 0; c < k; c++ {
					p0 := o.p0[c*b+r]
					if p0 > 0 {
						j -= opt.KeepClass * p0 * (math.Log(p0) - logp[c])
					}
					if dl != nil {
						dl[c*b+r] = float32(-opt.KeepClass * (math.Exp(logp[c]) - p0))
					}
				}
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
	a := c.attrOp.Output()
	for r := 0; r < b; r++ {
		for i := 0; i < f; i++ {
			st.Attrs[r*f+i] = float64(a[i*b+r])
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

// SetReference turns the keep penalty on (if Options.Keep) with the
// features of st as the values to keep.
func (c *Controller) SetReference(st *Step) {
	if !c.opt.Keep {
		return
	}
	f, b := len(c.attrs), c.b
	c.obj.a0 = make([]float64, f*b)
	for r := 0; r < b; r++ {
		for i := 0; i < f; i++ {
			c.obj.a0[i*b+r] = st.Attrs[r*f+i]
		}
	}
	if st.LogP != nil {
		k := len(st.LogP) / b
		c.obj.p0 = make([]float64, k*b)
		for r := 0; r < b; r++ {
			for i := 0; i < k; i++ {
				c.obj.p0[i*b+r] = math.Exp(st.LogP[r*k+i])
			}
		}
	}
	c.obj.keep = true
}
