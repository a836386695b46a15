package checkpoint

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/safetensors"
)

// readWeights reads a bare weights file, such as a PyTorch user writes from
// pytorch/examples' netG and netD state_dicts behind "g." and "d."
// (scripts/torch/README.md): the model and its shape are inferred from the
// tensors' names and shapes. A file without D's tensors (G only) serves
// sampling: D keeps its initial weights and is never run.
func readWeights(path string) (*Checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	cfg := config.Default()
	name, s, err := inferShape(f)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %v", path, err)
	}
	cfg.Model, cfg.LatentDim, cfg.Width = name, s.Latent, s.Width
	cfg.Data.Size, cfg.Data.Channels = s.H, s.C
	if s.DNoBatchNorm {
		cfg.DNorm = "none"
	}
	st := State{FormatVersion: FormatVersion, Model: name, Config: cfg}
	for k := 0; k < s.Classes; k++ {
		st.Classes = append(st.Classes, strconv.Itoa(k))
	}
	return &Checkpoint{Dir: path, State: st, model: f, bare: true}, nil
}

// inferShape recognises the DCGAN family's and the MLP GAN's generators,
// and a DCGAN's D without batch norm.
func inferShape(f *safetensors.File) (string, models.Shape, error) {
	shape := func(n string) []int {
		if t, ok := f.Get(n); ok {
			return t.Shape
		}
		return nil
	}
	s := models.Shape{}
	name := "dcgan"
	if e := shape("g.embed.weight"); len(e) == 2 {
		name, s.Classes = "cgan", e[0]
	}
	switch first := shape("g.main.0.weight"); {
	case len(first) == 4: // pytorch/examples: ConvT(Z, width·2^(n−1), 4, 4), …, ConvT(width, C)
		n := 0
		for len(shape(fmt.Sprintf("g.main.%d.weight", 3*(n+1)))) == 4 {
			n++
		}
		last := shape(fmt.Sprintf("g.main.%d.weight", 3*n))
		if n < 2 {
			return "", s, fmt.Errorf("g.main has %d transposed convolutions: not a pytorch/examples DCGAN generator", n+1)
		}
		s.Latent, s.C, s.H = first[0], last[1], 4<<n
		s.Width = first[1] >> (n - 1)
	case len(shape("g.fc.weight")) == 2 && len(shape("g.up2.weight")) == 4: // the 28 px reference
		fc, up1, up2 := shape("g.fc.weight"), shape("g.up1.weight"), shape("g.up2.weight")
		s.Latent, s.C, s.H, s.Width = fc[1], up2[1], 28, up1[1]
	case len(shape("g.fc1.weight")) == 2 && len(shape("g.fc3.weight")) == 2 && len(shape("d.fc6.weight")) == 2:
		// the semi-supervised GAN's fully connected networks, at any size
		name, s.Latent, s.Classes, s.Width = "sgan", shape("g.fc1.weight")[1], shape("d.fc6.weight")[0], models.DefaultWidth
		pix := shape("g.fc3.weight")[0]
		for _, c := range []int{1, 3} {
			if h := int(math.Sqrt(float64(pix / c))); pix%c == 0 && c*h*h == pix {
				s.C, s.H = c, h
			}
		}
		if s.C == 0 {
			return "", s, fmt.Errorf("g.fc3 makes %d values: not a square gray or RGB image", pix)
		}
		s.W = s.H
		return name, s, nil
	case len(shape("g.fc1.weight")) == 2 && len(shape("g.fc4.weight")) == 2:
		name = "gan"
		s.Latent = shape("g.fc1.weight")[1]
		pix := shape("g.fc4.weight")[0]
		for _, c := range []int{1, 3} {
			for _, h := range models.Sizes {
				if c*h*h == pix {
					s.C, s.H = c, h
				}
			}
		}
		if s.C == 0 {
			return "", s, fmt.Errorf("g.fc4 makes %d values: not a square gray or RGB image of a known size", pix)
		}
	default:
		return "", s, fmt.Errorf("no generator found (want g.main.0.weight of pytorch/examples' DCGAN, g.fc/g.up1/g.up2 of the 28 px DCGAN, g.fc1…g.fc4 of the GAN, or g.fc1…g.fc3 and d.fc6 of the semi-supervised GAN)")
	}
	s.W = s.H
	// A DCGAN discriminator with K > 1 outputs is a semi-supervised GAN's
	// classifier (gantrain's sgan before it took Salimans et al.'s networks):
	// d.fc at 28 px, the last convolution of d.main otherwise.
	k := 0
	if fc := shape("d.fc.weight"); len(fc) == 2 {
		k = fc[0]
	}
	for i := 0; i < 64; i++ {
		if w := shape(fmt.Sprintf("d.main.%d.weight", i)); len(w) == 4 {
			k = w[0]
		}
	}
	if k > 1 && name == "dcgan" {
		name, s.Classes = "sgan", k
	}
	// A D whose second convolution has a bias has no batch norm (d_norm:
	// none, wgan-gp's critic).
	if name == "dcgan" && (shape("d.conv2.bias") != nil || shape("d.main.2.bias") != nil) {
		s.DNoBatchNorm = true
	}
	return name, s, nil
}

// fillD adds to a G-only file m's own D tensors, so that LoadTensors finds
// every tensor.
func fillD(f *safetensors.File, m *models.GAN) (*safetensors.File, error) {
	for _, t := range f.Tensors {
		if strings.HasPrefix(t.Name, "d.") {
			return f, nil
		}
	}
	out := &safetensors.File{Tensors: append([]safetensors.Tensor{}, f.Tensors...), Metadata: f.Metadata}
	ts, err := modelTensors(m)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if strings.HasPrefix(t.Name, "d.") {
			out.Tensors = append(out.Tensors, t)
		}
	}
	return out, nil
}
