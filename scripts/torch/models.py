"""PyTorch definitions of gantrain's 32 and 64 px DCGAN family (dcgan, cgan).

Written from pytorch/examples' DCGAN,
https://github.com/pytorch/examples/blob/main/dcgan/main.py
(classes Generator and Discriminator, function weights_init): the same
`main` nn.Sequential, so state_dict names are `main.<i>.weight`, … as there,
and gantrain stores them behind a `g.` / `d.` prefix. The 32 px models are the
same scheme with one block less (4x4 -> 8 -> 16 -> 32). The discriminator's
forward returns the logit (before the final Sigmoid, which stays in `main` as
the last module so the indices match the example) unless prob=True.

The conditional variant (gantrain's cgan): G's input is z * embed(y) with an
nn.Embedding(K, nz) `embed`; D gets a label plane embed(y) of K x (H*W),
reshaped to (1, H, W) and concatenated after the image channels, so D's
main.0 has nc + 1 input channels.

Needs only torch (Debian's python3-torch 1.13 works).
"""
import torch
from torch import nn


def _blocks(size):
    if size == 64:
        return 4  # channel multipliers 8, 4, 2, 1
    if size == 32:
        return 3  # 4, 2, 1
    raise ValueError(f"size must be 32 or 64, not {size}")


class Generator(nn.Module):
    def __init__(self, size=64, nc=3, nz=100, width=64, classes=0):
        super().__init__()
        self.size, self.nc, self.nz, self.width, self.classes = size, nc, nz, width, classes
        n = _blocks(size)
        mult = 2 ** (n - 1)
        layers = [nn.ConvTranspose2d(nz, width * mult, 4, 1, 0, bias=False),
                  nn.BatchNorm2d(width * mult), nn.ReLU(True)]
        while mult > 1:
            layers += [nn.ConvTranspose2d(width * mult, width * mult // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width * mult // 2), nn.ReLU(True)]
            mult //= 2
        layers += [nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        if classes:
            self.embed = nn.Embedding(classes, nz)

    def forward(self, z, y=None):
        if self.classes:
            if y is None:
                raise ValueError("conditional generator needs labels y")
            z = z * self.embed(y)
        return self.main(z.reshape(z.shape[0], self.nz, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, size=64, nc=3, width=64, classes=0):
        super().__init__()
        self.size, self.nc, self.width, self.classes = size, nc, width, classes
        n = _blocks(size)
        cin = nc + (1 if classes else 0)
        layers = [nn.Conv2d(cin, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        mult = 1
        for _ in range(n - 1):
            layers += [nn.Conv2d(width * mult, width * mult * 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width * mult * 2), nn.LeakyReLU(0.2, inplace=True)]
            mult *= 2
        layers += [nn.Conv2d(width * mult, 1, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)
        if classes:
            self.embed = nn.Embedding(classes, size * size)

    def forward(self, x, y=None, prob=False):
        if self.classes:
            if y is None:
                raise ValueError("conditional discriminator needs labels y")
            plane = self.embed(y).reshape(x.shape[0], 1, self.size, self.size)
            x = torch.cat([x, plane], 1)
        m = self.main if prob else self.main[:-1]
        return m(x).reshape(-1)


def weights_init(m):
    """pytorch/examples' weights_init: conv N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0."""
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def infer(state, prefix):
    """The constructor arguments of the model whose state_dict (names without
    the prefix) is `state`: a dict of kwargs for Generator (prefix 'g') or
    Discriminator ('d'). Raises ValueError naming the problem."""
    convs = sorted(int(k.split('.')[1]) for k in state
                   if k.startswith('main.') and k.endswith('.weight') and state[k].dim() == 4)
    if not convs:
        raise ValueError(f"no {prefix}.main.<i>.weight convolution tensors")
    first, last = state[f"main.{convs[0]}.weight"], state[f"main.{convs[-1]}.weight"]
    size = {4: 32, 5: 64}.get(len(convs))
    if size is None:
        raise ValueError(f"{prefix}: {len(convs)} convolutions; expected 4 (32 px) or 5 (64 px)")
    classes = state["embed.weight"].shape[0] if "embed.weight" in state else 0
    if prefix == 'g':
        nz, top = first.shape[0], first.shape[1]
        width = top // 2 ** (_blocks(size) - 1)
        return dict(size=size, nc=last.shape[1], nz=nz, width=width, classes=classes)
    width = first.shape[0]
    nc = first.shape[1] - (1 if classes else 0)
    return dict(size=size, nc=nc, width=width, classes=classes)
