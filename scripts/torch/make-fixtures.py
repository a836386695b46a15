#!/usr/bin/python3
"""Writes the PyTorch fixtures of gantrain's 32 and 64 px DCGAN family:

    testdata/torch/dcgan64.safetensors   64 px RGB, nz 100, width 16
    testdata/torch/dcgan32.safetensors   32 px RGB, nz 100, width 8
    testdata/torch/cgan32.safetensors    32 px RGB, nz 100, width 8, 5 classes

Run with Debian's python3-torch (1.13): /usr/bin/python3 scripts/torch/make-fixtures.py
[OUTDIR]. Each file holds
  - every state_dict tensor of G and D (models.py, from pytorch/examples'
    dcgan/main.py) behind the `g.` / `d.` prefix, F32, num_batches_tracked I64 shape [];
  - z (B, nz) F32, x (B, nc, H, W) F32 in [-1, 1], and for cgan y (B,) I64;
  - g_eval  = G(z) in eval mode (running statistics), (B, nc, H, W);
  - g_train = G(z) in train mode (batch statistics, biased variance), on a
    deep copy so the stored running statistics are the ones before the pass;
  - d_eval_logit, d_train_logit = D(x) before the final Sigmoid, (B,);
    d_eval_prob = Sigmoid of d_eval_logit;
  - sanity = arange(24) as F32 of shape (2, 3, 4): a reader with the right
    layout finds sanity[1, 2, 3] == 23 (row-major, little-endian);
  - __metadata__: what made the file and how.
Weights follow pytorch/examples' weights_init (conv N(0, 0.02), BatchNorm
weight N(1, 0.02)), then, so that every BatchNorm tensor is really tested
(an untouched BatchNorm has bias 0, mean 0, var 1, which would hide a loader
that drops them): BatchNorm bias ~ N(0, 0.1); running_mean/var those of a
calibration batch of 16 (so eval-mode outputs keep the scale of train-mode
ones), the mean moved by 0.2·std·N(0, 1), the variance scaled by U(0.5, 2);
num_batches_tracked = 7. The outputs are
computed in float64 from the float32 weights and stored as F32.
"""
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
import stio  # noqa: E402

B = 4


def set_bn(m, calib, gen):
    """Sets every BatchNorm's running statistics near the statistics of a
    calibration batch (so eval-mode activations keep their scale), perturbed
    so they differ from any batch's: mean + 0.2·std·N(0, 1), var · U(0.5, 2);
    bias ~ N(0, 0.1); num_batches_tracked = 7."""
    c = copy.deepcopy(m).train()
    for mod in c.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.momentum = 1.0  # running stats := this batch's
    with torch.no_grad():
        c(*calib)
    for mod, cm in zip(m.modules(), c.modules()):
        if isinstance(mod, torch.nn.BatchNorm2d):
            n = mod.num_features
            with torch.no_grad():
                mod.bias.copy_(torch.randn(n, generator=gen) * 0.1)
                std = cm.running_var.sqrt()
                mod.running_mean.copy_(cm.running_mean + 0.2 * std * torch.randn(n, generator=gen))
                mod.running_var.copy_(cm.running_var * (0.5 + 1.5 * torch.rand(n, generator=gen)))
                mod.num_batches_tracked.fill_(7)


def fixture(name, size, nc, nz, width, classes, outdir, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    g = models.Generator(size, nc, nz, width, classes)
    d = models.Discriminator(size, nc, width, classes)
    g.apply(models.weights_init)
    d.apply(models.weights_init)
    yc = torch.randint(0, classes, (16,), generator=gen) if classes else None
    set_bn(g, (torch.randn(16, nz, generator=gen), yc), gen)
    set_bn(d, (torch.rand(16, nc, size, size, generator=gen) * 2 - 1, yc), gen)
    out = {}
    for prefix, m in (("g", g), ("d", d)):
        for k, v in m.state_dict().items():
            out[f"{prefix}.{k}"] = v.clone()
    z = torch.randn(B, nz, generator=gen)
    x = torch.rand(B, nc, size, size, generator=gen) * 2 - 1
    y = torch.randint(0, classes, (B,), generator=gen) if classes else None
    out["z"], out["x"] = z, x
    if classes:
        out["y"] = y
    with torch.no_grad():
        g64, d64 = copy.deepcopy(g).double().eval(), copy.deepcopy(d).double().eval()
        out["g_eval"] = g64(z.double(), y).float()
        logit = d64(x.double(), y)
        out["d_eval_logit"] = logit.float()
        out["d_eval_prob"] = torch.sigmoid(logit).float()
        out["g_train"] = copy.deepcopy(g).double().train()(z.double(), y).float()
        out["d_train_logit"] = copy.deepcopy(d).double().train()(x.double(), y).float()
    # the stored state is the one before any forward pass
    for prefix, m in (("g", g), ("d", d)):
        for k, v in m.state_dict().items():
            assert torch.equal(out[f"{prefix}.{k}"], v), k
    out["sanity"] = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    meta = {
        "about": "gantrain PyTorch fixture: G and D of pytorch/examples dcgan/main.py "
                 "(scripts/torch/models.py) behind g./d. prefixes; outputs in float64 from the "
                 "float32 weights, stored F32; d_*_logit are before the final Sigmoid",
        "made_by": "scripts/torch/make-fixtures.py", "torch": torch.__version__,
        "size": str(size), "nc": str(nc), "nz": str(nz), "width": str(width),
        "classes": str(classes), "batch": str(B), "seed": str(seed),
        "sanity": "arange(24) F32 shape (2,3,4): sanity[1,2,3] == 23",
    }
    path = os.path.join(outdir, name + ".safetensors")
    stio.save(path, out, meta)
    # read back through the independent reader and compare
    back, _ = stio.load(path)
    for k, v in out.items():
        assert back[k].dtype == v.dtype and torch.equal(back[k], v), k
    print(f"{path}: {os.path.getsize(path)} bytes, {len(out)} tensors")
    for k in ("z", "x", "g_eval", "g_train", "d_eval_logit", "d_train_logit", "d_eval_prob"):
        print(f"  max|{k}| = {out[k].abs().max().item():.6g}")
    print(f"  max|g_eval - g_train| = {(out['g_eval'] - out['g_train']).abs().max().item():.6g}")
    print(f"  max|d_eval_logit - d_train_logit| = "
          f"{(out['d_eval_logit'] - out['d_train_logit']).abs().max().item():.6g}")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata", "torch")
    if len(sys.argv) > 2 or not os.path.isdir(outdir):
        sys.exit(f"make-fixtures.py: {outdir}: not a directory (usage: make-fixtures.py [OUTDIR])")
    torch.set_num_threads(1)
    fixture("dcgan64", 64, 3, 100, 16, 0, outdir, 64)
    fixture("dcgan32", 32, 3, 100, 8, 0, outdir, 32)
    fixture("cgan32", 32, 3, 100, 8, 5, outdir, 33)


if __name__ == "__main__":
    main()
