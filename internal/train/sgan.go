package train

import (
	"fmt"
	"time"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/losses"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The semi-supervised GAN's step (Salimans et al. 2016). D is a classifier
// of K logits l (the fake class implicit, D(x) = σ(LSE(l))); each step
// takes a labelled batch (x_l, y), an unlabelled batch x_u and noise z:
//
//	D graph: z → G → fake (no gradient);
//	         loss_D = CE(D(x_l), y) + softplus(−LSE(D(x_u))) + softplus(LSE(D(fake)))
//	G graph: z → G → fake; loss_G = ‖mean f(x_u) − mean f(fake)‖² (f: D's
//	         last hidden layer, D's updated weights) or −log D(fake)
//
// as in the DCGAN step, the G step reuses the D step's z (and x_u): the
// same fake batch. D's batch-norm running statistics, which classification
// uses, are those of the unlabelled real batches only: the labelled and
// fake passes, and the G graph's, leave them alone (each pass still
// normalises with its own batch's statistics). With train.supervised_only
// there is only the D graph with the cross-entropy: D trained as a plain
// classifier on the labelled images, its statistics from those.

func newSGANTrainer(cfg config.Config, t *Trainer, o options) (*Trainer, error) {
	model, b := t.Model, t.Batch
	dnet, ok := model.D.(models.FeatureNet)
	if !ok {
		return nil, fmt.Errorf("train: %s's discriminator shows no features", model.Name)
	}
	t.supervisedOnly = cfg.Train.SupervisedOnly
	zT := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(model.Latent, b))
	t.z = zT.Data().([]float32)
	realT := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(model.C, model.H, model.W, b))
	t.Real = realT.Data().([]float32)

	// D graph.
	dGraph := nn.NewGraph(true, model.D.Params()...)
	dGraph.SetPlain(o.plain)
	dGraph.SetNoise(t.Noise) // D's noise layers
	var xl, yl *gorgonia.Node
	xl, t.Labeled = dGraph.Input("labeled", model.C, model.H, model.W, b)
	yl, t.LabeledLabels = dGraph.Input("labels", b)
	var lossD *gorgonia.Node
	if t.supervisedOnly {
		lossD, t.sup = losses.CrossEntropy(dGraph, model.D.Forward(dGraph, xl, nil), yl)
		t.dReal, t.dFake, t.gFake = &losses.Stat{}, &losses.Stat{}, &losses.Stat{}
	} else {
		fake := model.G.Forward(dGraph, dGraph.InputFrom("z", zT), nil)
		outReal := model.D.Forward(dGraph, dGraph.InputFrom("unlabeled", realT), nil)
		dGraph.FreezeStats(model.D.BatchNorms()...) // the unlabelled pass alone counts
		outLab := model.D.Forward(dGraph, xl, nil)
		outFake := model.D.Forward(dGraph, fake, nil)
		var lossSup, lossReal, lossFake *gorgonia.Node
		lossSup, t.sup = losses.CrossEntropy(dGraph, outLab, yl)
		lossReal, t.dReal = losses.SGAN(dGraph, "D loss on unlabelled images", outReal, 1)
		lossFake, t.dFake = losses.SGAN(dGraph, "D loss on fake images", outFake, 0)
		lossD = losses.Sum(dGraph, losses.Sum(dGraph, lossSup, lossReal), lossFake)
	}
	dGraph.Backward(lossD)
	var err error
	if t.dm, err = dGraph.Compile(); err != nil {
		return nil, fmt.Errorf("train: D graph: %w", err)
	}
	if t.supervisedOnly {
		return t, nil
	}

	// G graph.
	gGraph := nn.NewGraph(true, model.G.Params()...)
	gGraph.SetPlain(o.plain)
	gGraph.SetNoise(t.Noise)
	gGraph.FreezeStats(model.G.BatchNorms()...) // the D graph's pass counted this batch
	gGraph.FreezeStats(model.D.BatchNorms()...)
	fake := model.G.Forward(gGraph, gGraph.InputFrom("z", zT), nil)
	var lossG *gorgonia.Node
	switch cfg.SGAN.GLoss {
	case "non_saturating":
		lossG, t.gFake = losses.SGAN(gGraph, "G loss", model.D.Forward(gGraph, fake, nil), 1)
	default: // feature_matching
		fReal, _ := dnet.ForwardFeatures(gGraph, gGraph.InputFrom("unlabeled", realT), nil)
		fFake, _ := dnet.ForwardFeatures(gGraph, fake, nil)
		lossG, t.gFake = losses.FeatureMatching(gGraph, fReal, fFake)
	}
	gGraph.Backward(lossG)
	if t.gm, err = gGraph.Compile(); err != nil {
		return nil, fmt.Errorf("train: G graph: %w", err)
	}
	return t, nil
}

// stepSGAN runs one semi-supervised iteration: the D step, then the G step
// on the same z (none with supervised_only).
func (t *Trainer) stepSGAN(next func() error) error {
	start := time.Now()
	if err := next(); err != nil {
		return err
	}
	if !t.supervisedOnly {
		t.Noise.FillNormal(t.z, 0, 1)
	}
	if err := t.runD(); err != nil {
		return err
	}
	mid := time.Now()
	t.TimeD += mid.Sub(start)
	if t.supervisedOnly {
		return nil
	}
	err := t.runG()
	t.TimeG += time.Since(mid)
	return err
}

// SetLabeledBatch loads the labelled batch (sgan) given image after image
// (B, C·H·W), with its labels.
func (t *Trainer) SetLabeledBatch(imgs []float32, labels []int) {
	kernels.ToBatchLast(imgs, t.Labeled, len(t.Labeled)/t.Batch, t.Batch)
	for i := range t.LabeledLabels {
		t.LabeledLabels[i] = float32(labels[i])
	}
}
