"""gantrain's models in PyTorch, with gantrain's tensor names and layouts.

Written by `gantrain export`. A gantrain checkpoint stores G's tensors behind
"g." and D's behind "d."; without the prefix they are these modules'
state_dict names, so `load_state_dict` takes them unchanged.

- 28 px DCGAN family (dcgan, wgan, cgan): the reference networks
    G: [embed] -> fc (Z -> 2w*7*7, no bias), fc_bn (BatchNorm1d), ReLU,
       view (2w, 7, 7) -> up1 ConvT(2w, w, 4, 2, 1, no bias), up1_bn, ReLU
       -> up2 ConvT(w, C, 4, 2, 1) + bias, tanh
    D: [label plane embed(y) as one more channel] -> conv1 Conv(C, w, 4, 2, 1)
       + bias, LeakyReLU 0.2 -> conv2 Conv(w, 2w, 4, 2, 1, no bias), conv2_bn,
       LeakyReLU 0.2 -> flatten (C, H, W order) -> fc Linear(2w*7*7, 1)
- 16 to 256 px DCGAN family: pytorch/examples' DCGAN (`main` nn.Sequential,
  https://github.com/pytorch/examples/blob/main/dcgan/main.py); D returns
  the logit (its final Sigmoid is left in `main` so the indices match).
- `d_norm: none` (dcgan, wgan; wgan-gp's critic): D without batch norm. Each
  convolution batch norm followed has a bias instead (28 px: conv2.bias, no
  conv2_bn; other sizes: main.2.bias, main.5.bias, ..., the batch norms'
  places in `main` held by nn.Identity, so the indices stay).
- gan: the fully connected GAN, fc1..fc4 with LeakyReLU 0.2 (G ends in tanh).

Conditional (cgan): G's input is z * embed(y), an nn.Embedding(K, Z); D gets
embed(y), an nn.Embedding(K, H*W), reshaped to (1, H, W) and concatenated
after the image channels.

The 28 px networks' batch norms carry no num_batches_tracked in gantrain's
files; `state_for` and `load` below handle that.
"""
import torch
from torch import nn
from torch.nn import functional as F


class RefGenerator(nn.Module):
    def __init__(self, nz=100, nc=1, width=64, classes=0):
        super().__init__()
        self.nz, self.nc, self.size, self.classes, self.w2 = nz, nc, 28, classes, 2 * width
        if classes:
            self.embed = nn.Embedding(classes, nz)
        self.fc = nn.Linear(nz, 2 * width * 49, bias=False)
        self.fc_bn = nn.BatchNorm1d(2 * width * 49)
        self.up1 = nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False)
        self.up1_bn = nn.BatchNorm2d(width)
        self.up2 = nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=True)

    def forward(self, z, y=None):
        if self.classes:
            z = z * self.embed(y)
        h = F.relu(self.fc_bn(self.fc(z))).reshape(z.shape[0], self.w2, 7, 7)
        h = F.relu(self.up1_bn(self.up1(h)))
        return torch.tanh(self.up2(h))


class RefDiscriminator(nn.Module):
    def __init__(self, nc=1, width=64, classes=0, outputs=1, norm=True):
        super().__init__()
        self.nc, self.size, self.classes = nc, 28, classes
        if classes:
            self.embed = nn.Embedding(classes, 28 * 28)
        self.conv1 = nn.Conv2d(nc + (1 if classes else 0), width, 4, 2, 1, bias=True)
        self.conv2 = nn.Conv2d(width, 2 * width, 4, 2, 1, bias=not norm)
        self.conv2_bn = nn.BatchNorm2d(2 * width) if norm else nn.Identity()
        self.fc = nn.Linear(2 * width * 49, outputs, bias=True)

    def forward(self, x, y=None):
        if self.classes:
            x = torch.cat([x, self.embed(y).reshape(x.shape[0], 1, 28, 28)], 1)
        h = F.leaky_relu(self.conv1(x), 0.2)
        h = F.leaky_relu(self.conv2_bn(self.conv2(h)), 0.2)
        return self.fc(h.flatten(1)).reshape(x.shape[0], -1).squeeze(1)


def _ups(size):
    n = size.bit_length() - 3
    if size < 16 or size & (size - 1) or n < 2:
        raise ValueError(f"pytorch/examples' DCGAN is built for 2^k px, 16 to 256; not {size}")
    return n


class ExGenerator(nn.Module):
    def __init__(self, size=64, nz=100, nc=3, width=64, classes=0):
        super().__init__()
        self.nz, self.nc, self.size, self.classes = nz, nc, size, classes
        n = _ups(size)
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
            z = z * self.embed(y)
        return self.main(z.reshape(z.shape[0], self.nz, 1, 1))


class ExDiscriminator(nn.Module):
    def __init__(self, size=64, nc=3, width=64, classes=0, outputs=1, norm=True):
        super().__init__()
        self.nc, self.size, self.classes = nc, size, classes
        n = _ups(size)
        layers = [nn.Conv2d(nc + (1 if classes else 0), width, 4, 2, 1, bias=False),
                  nn.LeakyReLU(0.2, inplace=True)]
        mult = 1
        for _ in range(n - 1):
            layers += [nn.Conv2d(width * mult, width * mult * 2, 4, 2, 1, bias=not norm),
                       nn.BatchNorm2d(width * mult * 2) if norm else nn.Identity(),
                       nn.LeakyReLU(0.2, inplace=True)]
            mult *= 2
        layers += [nn.Conv2d(width * mult, outputs, 4, 1, 0, bias=False), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)
        if classes:
            self.embed = nn.Embedding(classes, size * size)

    def forward(self, x, y=None):
        if self.classes:
            x = torch.cat([x, self.embed(y).reshape(x.shape[0], 1, self.size, self.size)], 1)
        return self.main[:-1](x).reshape(x.shape[0], -1).squeeze(1)


class MLP(nn.Module):
    """fc1..fc4 with LeakyReLU 0.2 between; `image` (C, H, W) makes it a generator (tanh)."""

    def __init__(self, sizes, image=None):
        super().__init__()
        self.image, self.nlayers = image, len(sizes) - 1
        for i in range(self.nlayers):
            setattr(self, f"fc{i + 1}", nn.Linear(sizes[i], sizes[i + 1]))
        if image:
            self.nz, self.nc, self.size, self.classes = sizes[0], image[0], image[1], 0

    def forward(self, x, y=None):
        h = x.flatten(1)
        for i in range(self.nlayers):
            h = getattr(self, f"fc{i + 1}")(h)
            if i < self.nlayers - 1:
                h = F.leaky_relu(h, 0.2)
        if self.image:
            return torch.tanh(h).reshape(x.shape[0], *self.image)
        return h.squeeze(1)


def build(model, latent, channels, size, width, classes, d_norm=""):
    """(G, D) of a gantrain model: dcgan, wgan, cgan or gan; d_norm "none"
    gives dcgan's and wgan's D without batch norm ("" or "batch": with)."""
    if model == "gan":
        pix = channels * size * size
        return (MLP([latent, 256, 512, 1024, pix], image=(channels, size, size)),
                MLP([pix, 1024, 512, 256, 1]))
    if model not in ("dcgan", "wgan", "cgan"):
        raise ValueError(f"model {model!r}: exported models are dcgan, wgan, cgan and gan")
    if d_norm not in ("", "batch", "none") or (d_norm == "none" and model == "cgan"):
        raise ValueError(f"d_norm {d_norm!r}: batch, or none for dcgan and wgan")
    k, norm = (classes if model == "cgan" else 0), d_norm != "none"
    if size == 28:
        return RefGenerator(latent, channels, width, k), RefDiscriminator(channels, width, k, norm=norm)
    return ExGenerator(size, latent, channels, width, k), ExDiscriminator(size, channels, width, k, norm=norm)


def build_for(meta):
    """(G, D) of gantrain.json: its model, shape and config's d_norm."""
    s = meta["shape"]
    return build(meta["model"], s["latent"], s["channels"], s["size"], s["width"], s["classes"],
                 meta["config"].get("d_norm") or "")


def state_for(module, prefix, names):
    """module's state_dict behind prefix ("g." or "d."), restricted to the
    tensors gantrain stores (names): PyTorch's num_batches_tracked counters
    that gantrain's 28 px networks do not have are left out."""
    out = {}
    for k, v in module.state_dict().items():
        if prefix + k in names:
            out[prefix + k] = v.detach().cpu().contiguous()
    return out


def load(module, prefix, tensors, path):
    """Copies the tensors named prefix+<state_dict name> into module; every
    state_dict entry but num_batches_tracked must be there with its shape and
    dtype, and nothing else with the prefix. Raises ValueError naming path."""
    sd = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    want = module.state_dict()
    for k in sd:
        if k not in want:
            raise ValueError(f"{path}: unexpected tensor {prefix + k}")
    for k, v in want.items():
        if k not in sd:
            if k.endswith("num_batches_tracked"):
                continue
            raise ValueError(f"{path}: missing tensor {prefix + k}")
        if tuple(sd[k].shape) != tuple(v.shape) or sd[k].dtype != v.dtype:
            raise ValueError(f"{path}: tensor {prefix + k}: {sd[k].dtype} {list(sd[k].shape)}, want {v.dtype} {list(v.shape)}")
    with torch.no_grad():
        for k, v in want.items():
            if k in sd:
                v.copy_(sd[k])
