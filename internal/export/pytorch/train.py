#!/usr/bin/env python3
"""Continue a gantrain run in PyTorch, on one or many GPUs or CPUs.

Written by `gantrain export`; see README.md beside it. The model, losses,
optimisers and hyper-parameters are the run's (gantrain.json: the run's
config as gantrain resolved it), R1 on real images (train.r1) and the
moving average of G (train.ema) included. Training resumes from
weights.safetensors and optim.safetensors (Adam's exp_avg / exp_avg_sq and
step, RMSprop's square_avg), and g_ema.safetensors with train.ema, at the
run's step, and writes checkpoints in gantrain's layout into --out:

  OUT/model.safetensors   "g.*" and "d.*": gantrain's names and layouts
  OUT/optim.safetensors   "<param>.exp_avg", "<param>.exp_avg_sq" (or .square_avg)
  OUT/g_ema.safetensors   train.ema only: the moving average of G, "g.*"
  OUT/gantrain.json       model, step and optimiser steps (for `gantrain import`)
  OUT/metrics.jsonl       the run's metrics up to the export, then these steps'

Under torchrun each process trains on batch_size / WORLD_SIZE images, so the
global batch is the run's; gradients are averaged by DistributedDataParallel
(nccl on GPUs, gloo on CPUs). Without torchrun it runs as one process.

    python3 train.py --steps 1000 --out out
    torchrun --standalone --nproc_per_node 8 train.py --steps 1000 --out out
"""
import argparse
import copy
import datetime
import gzip
import json
import math
import os
import shutil
import sys
import time
import types

import numpy as np
import torch
import torch.distributed as dist
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models  # noqa: E402
import stio  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, required=True, help="generator steps to train (beyond the exported step)")
    p.add_argument("--out", required=True, help="directory for checkpoints and metrics")
    p.add_argument("--from", dest="src", default=HERE,
                   help="resume from this directory's gantrain.json, model.safetensors/weights.safetensors, "
                        "optim.safetensors and g_ema.safetensors (default: the export itself; give --out of an "
                        "earlier run to continue it)")
    p.add_argument("--data", default=None, help="the training data (default: the path the run used, in gantrain.json)")
    p.add_argument("--data-cache", default=None,
                   help="where IDX files are unpacked for torchvision (default: OUT/data)")
    p.add_argument("--cpu", action="store_true", help="train on the CPU even when GPUs are present (gloo)")
    p.add_argument("--checkpoint-every", type=int, default=None, help="steps between checkpoints (default: the run's)")
    p.add_argument("--log-every", type=int, default=None, help="steps between metrics lines (default: the run's)")
    p.add_argument("--workers", type=int, default=2, help="data loader processes per training process")
    p.add_argument("--quick-image-check", action="store_true",
                   help="folders: read only each image's header at start-up, not the whole image (faster on big "
                        "folders; a truncated file then stops training)")
    return p.parse_args()


class Dist:
    """The process's place: rank, world size, device, backend."""

    def __init__(self, cpu):
        self.on = "RANK" in os.environ and "WORLD_SIZE" in os.environ
        self.rank = int(os.environ.get("RANK", 0))
        self.world = int(os.environ.get("WORLD_SIZE", 1))
        self.local = int(os.environ.get("LOCAL_RANK", 0))
        gpu = torch.cuda.is_available() and not cpu
        self.device = torch.device(f"cuda:{self.local}" if gpu else "cpu")
        self.backend = "nccl" if gpu else "gloo"
        if gpu:
            torch.cuda.set_device(self.device)
        if self.on:
            dist.init_process_group(self.backend, timeout=datetime.timedelta(minutes=30))

    def wrap(self, m):
        if not self.on:
            return m
        return DDP(m, device_ids=[self.local] if self.device.type == "cuda" else None)

    def mean(self, values):
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.on:
            dist.all_reduce(t)
            t /= self.world
        return t.tolist()

    def barrier(self):
        if self.on:
            dist.barrier()


# ---- data ----------------------------------------------------------------

def _read_maybe_gz(path):
    with open(path, "rb") as f:
        b = f.read()
    return gzip.decompress(b) if b[:2] == b"\x1f\x8b" else b


def idx_dataset(spec, cache, local_rank, d):
    """MNIST-style IDX files through torchvision.datasets.MNIST: the files are
    unpacked once into CACHE/MNIST/raw, where torchvision reads them."""
    import torchvision
    from torchvision import transforms
    raw = os.path.join(cache, "MNIST", "raw")
    imgs = os.path.join(raw, "train-images-idx3-ubyte")
    lbls = os.path.join(raw, "train-labels-idx1-ubyte")
    if local_rank == 0:
        os.makedirs(raw, exist_ok=True)
        data = _read_maybe_gz(spec["images"])
        tmp = f".{os.getpid()}.tmp"  # nodes may share the directory
        with open(imgs + tmp, "wb") as f:
            f.write(data)
        os.replace(imgs + tmp, imgs)
        n = int.from_bytes(data[4:8], "big")
        if spec.get("labels"):
            lab = _read_maybe_gz(spec["labels"])
        else:  # unlabelled: every image class 0 (unconditional models ignore it)
            lab = (0x801).to_bytes(4, "big") + n.to_bytes(4, "big") + bytes(n)
        with open(lbls + tmp, "wb") as f:
            f.write(lab)
        os.replace(lbls + tmp, lbls)
        for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):  # torchvision checks they exist
            p = os.path.join(raw, name)
            if not os.path.exists(p):
                shutil.copyfile(imgs if "images" in name else lbls, p)
    d.barrier()
    tf = [transforms.ToTensor()]
    h = int.from_bytes(open(imgs, "rb").read(12)[8:12], "big")
    if spec["size"] != h:
        tf.insert(0, transforms.Resize((spec["size"], spec["size"]), transforms.InterpolationMode.BICUBIC))
    if spec["channels"] == 3:
        tf.insert(0, transforms.Lambda(lambda im: im.convert("RGB")))
    tf.append(transforms.Normalize((0.5,) * spec["channels"], (0.5,) * spec["channels"]))
    if spec.get("flip"):
        tf.append(transforms.RandomHorizontalFlip())
    return torchvision.datasets.MNIST(cache, train=True, download=False, transform=transforms.Compose(tf))


def folder_dataset(spec, root, full_check=True):
    """A folder of images through torchvision.datasets.ImageFolder, prepared as
    gantrain prepares them: the centred square, resized (bicubic) to the size,
    composited onto the background, gray (BT.601) or RGB, scaled to [-1, 1].
    Hidden files and folders are ignored, as are files PIL cannot decode
    (each is decoded once to find out, unless full_check is False: then only
    its header is read) or that declare more than 64 Mpixel."""
    import torchvision
    from PIL import Image
    from torchvision import transforms

    exts = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")  # gantrain's

    size, nc, bg = spec["size"], spec["channels"], tuple(spec["background"])

    def prepare(path):
        with open(path, "rb") as f:
            im = Image.open(f)
            im.load()
        im = im.convert("RGBA")
        w, h = im.size
        s = min(w, h)
        im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        if s != size:
            im = im.resize((size, size), Image.BICUBIC)
        im = Image.alpha_composite(Image.new("RGBA", im.size, bg + (255,)), im)
        return im.convert("L" if nc == 1 else "RGB")

    def usable(path):
        rel = os.path.relpath(path, root)
        if any(part.startswith(".") for part in rel.split(os.sep)) or not path.lower().endswith(exts):
            return False
        try:
            with Image.open(path) as im:
                w, h = im.size
                if w <= 0 or h <= 0 or w * h > 64 << 20:  # gantrain's limit: 64 Mpixel, from the header
                    return False
                if full_check:
                    im.load()
                return True
        except Exception:  # noqa: BLE001 -- gantrain skips files that do not decode
            return False

    tf = [transforms.ToTensor(), transforms.Normalize((0.5,) * nc, (0.5,) * nc)]
    if spec.get("flip"):
        tf.append(transforms.RandomHorizontalFlip())
    tf = transforms.Compose(tf)

    class Folder(torchvision.datasets.ImageFolder):
        def find_classes(self, directory):
            classes = sorted(e.name for e in os.scandir(directory) if e.is_dir() and not e.name.startswith("."))
            return classes, {c: i for i, c in enumerate(classes)}

    top = [e for e in os.scandir(root) if e.is_file() and usable(e.path)]
    if top:  # images directly in the folder: unlabelled, one class
        class Flat(torch.utils.data.Dataset):
            def __init__(self):
                self.files = sorted(os.path.join(dp, f) for dp, dns, fs in os.walk(root, followlinks=True)
                                    for f in fs if usable(os.path.join(dp, f)))

            def __len__(self):
                return len(self.files)

            def __getitem__(self, i):
                return tf(prepare(self.files[i])), 0
        return Flat()
    return Folder(root, transform=tf, loader=prepare, is_valid_file=usable)


def dataset(meta, args, d):
    spec = dict(meta["data"])
    if args.data:
        spec["images" if spec["kind"] == "idx" else "root"] = os.path.abspath(args.data)
        if spec["kind"] == "idx" and os.path.isdir(args.data):
            for name, key in (("train-images-idx3-ubyte", "images"), ("train-labels-idx1-ubyte", "labels")):
                for ext in ("", ".gz"):
                    if os.path.exists(os.path.join(args.data, name + ext)):
                        spec[key] = os.path.join(args.data, name + ext)
    if spec["kind"] == "idx":
        return idx_dataset(spec, args.data_cache or os.path.join(args.out, "data"), d.local, d)
    return folder_dataset(spec, spec["root"], not args.quick_image_check)


# ---- state ---------------------------------------------------------------

def load_state(src):
    with open(os.path.join(src, "gantrain.json")) as f:
        meta = json.load(f)
    for name in ("model.safetensors", "weights.safetensors"):
        if os.path.exists(os.path.join(src, name)):
            weights = os.path.join(src, name)
            break
    else:
        raise SystemExit(f"train.py: {src}: no model.safetensors or weights.safetensors")
    tensors, _ = stio.load(weights)
    optim = {}
    op = os.path.join(src, "optim.safetensors")
    if os.path.exists(op):
        optim, _ = stio.load(op)
    return meta, weights, tensors, optim


def load_ema(src, meta):
    """The moving average of G (g_ema.safetensors) when the run has one
    (train.ema > 0): (path, tensors); (None, None) without."""
    beta = meta["config"]["train"].get("ema") or 0
    if not beta:
        return None, None
    path = os.path.join(src, "g_ema.safetensors")
    if not os.path.exists(path):
        raise SystemExit(f"train.py: {src}: train.ema is {beta} but there is no g_ema.safetensors (the moving average of G)")
    tensors, _ = stio.load(path)
    return path, tensors


def update_ema(ema, g, beta):
    """gantrain's moving average of G after a G step: θ_ema ← β·θ_ema +
    (1−β)·θ in float32, and G's batch-norm statistics copied."""
    b = torch.tensor(beta, dtype=torch.float32)
    c = 1 - b
    with torch.no_grad():
        for e, p in zip(ema.parameters(), g.parameters()):
            e.mul_(b).add_(p * c)
        for e, p in zip(ema.buffers(), g.buffers()):
            e.copy_(p)


def make_optimizer(spec, params):
    if spec["name"] == "adam":
        return torch.optim.Adam(params, lr=spec["lr"], betas=tuple(spec["betas"]), eps=spec["eps"])
    if spec["name"] == "rmsprop":
        return torch.optim.RMSprop(params, lr=spec["lr"], alpha=spec["alpha"], eps=spec["eps"])
    raise SystemExit(f"train.py: optimiser {spec['name']!r}: adam or rmsprop")


BUFFERS = {"adam": ("exp_avg", "exp_avg_sq"), "rmsprop": ("square_avg",)}


def set_optim_state(opt, name, step, named, tensors, device):
    """gantrain's optimiser state into a torch optimiser: the same buffers
    and the same step count (Adam's bias corrections continue from it)."""
    if step == 0:
        return
    for pname, p in named:
        st = {"step": torch.tensor(float(step))}
        for b in BUFFERS[name]:
            t = tensors.get(f"{pname}.{b}")
            if t is None or tuple(t.shape) != tuple(p.shape):
                raise SystemExit(f"train.py: optim.safetensors: missing or misshapen {pname}.{b}")
            st[b] = t.to(device).clone()
        opt.state[p] = st


def optim_tensors(opt, name, named):
    out = {}
    for pname, p in named:
        st = opt.state.get(p, {})
        for b in BUFFERS[name]:
            if b in st:
                out[f"{pname}.{b}"] = st[b].detach().cpu().contiguous()
    return out


def opt_step(opt, named):
    for _, p in named:
        st = opt.state.get(p)
        if st and "step" in st:
            return int(float(st["step"]))
    return 0


def write_atomic(path, write):
    tmp = path + ".tmp"
    write(tmp)
    os.replace(tmp, path)


# ---- training ------------------------------------------------------------

class GStep(torch.nn.Module):
    """G alone, so that DistributedDataParallel syncs only G's gradients."""

    def __init__(self, g):
        super().__init__()
        self.g = g

    def forward(self, z, y):
        return self.g(z, y)


class DStep(torch.nn.Module):
    """D's loss on a real and a fake batch, each through D on its own (batch
    norm sees them apart, as in gantrain and pytorch/examples), with R1 when
    r1 > 0: (γ/2)·mean_b ‖∇ₓD(x_b)‖² of D's raw output (the logit, before
    the sigmoid) on the real batch, its gradient by autograd with
    create_graph, so that D's weights get the penalty's gradient too.
    Returns the loss, mean D(x) and D(G(z)) (raw for the critic), R1 and
    the mean ‖∇ₓD(x_b)‖ (0 and 0 without R1)."""

    def __init__(self, d, wasserstein, r1=0.0):
        super().__init__()
        self.d, self.w, self.r1 = d, wasserstein, r1

    def forward(self, real, yreal, fake, yfake):
        if self.r1:
            real = real.detach().requires_grad_(True)
        out_r, out_f = self.d(real, yreal), self.d(fake, yfake)
        if self.w:  # critic: mean C(fake) - mean C(real)
            loss = -out_r.mean() + out_f.mean()
            mr, mf = out_r.detach().mean(), out_f.detach().mean()
        else:
            lr = F.binary_cross_entropy_with_logits(out_r, torch.ones_like(out_r))
            lf = F.binary_cross_entropy_with_logits(out_f, torch.zeros_like(out_f))
            loss = lr + lf
            mr, mf = torch.sigmoid(out_r.detach()).mean(), torch.sigmoid(out_f.detach()).mean()
        if not self.r1:
            zero = torch.zeros((), device=loss.device)
            return loss, mr, mf, zero, zero
        grad, = torch.autograd.grad(out_r.sum(), real, create_graph=True)
        sq = grad.pow(2).flatten(1).sum(1)
        pen = self.r1 / 2 * sq.mean()
        return loss + pen, mr, mf, pen.detach(), sq.detach().sqrt().mean()


def setup(meta, src, wpath, tensors, otensors, d):
    """The run's networks, loaded, on d's device, with their optimisers, the
    moving average of G (or None) and the hyper-parameters of a step."""
    cfg, model = meta["config"], meta["model"]
    s = types.SimpleNamespace()
    s.G, s.D = models.build_for(meta)
    s.epath, etensors = load_ema(src, meta)
    s.ema = None
    try:
        models.load(s.G, "g.", tensors, wpath)
        models.load(s.D, "d.", tensors, wpath)
        if etensors is not None:
            s.ema = copy.deepcopy(s.G)
            models.load(s.ema, "g.", etensors, s.epath)
    except ValueError as e:
        raise SystemExit(f"train.py: {e}")
    s.names, s.ema_names = set(tensors), set(etensors or ())
    s.ema_beta = cfg["train"].get("ema") or 0
    s.G.to(d.device).train()
    s.D.to(d.device).train()
    if s.ema is not None:
        s.ema.to(d.device).requires_grad_(False)
    s.gnamed = [("g." + k, p) for k, p in s.G.named_parameters()]
    s.dnamed = [("d." + k, p) for k, p in s.D.named_parameters()]
    s.optG = make_optimizer(cfg["optim"]["g"], [p for _, p in s.gnamed])
    s.optD = make_optimizer(cfg["optim"]["d"], [p for _, p in s.dnamed])
    ost = meta.get("optim") or {}
    if ost:
        set_optim_state(s.optG, cfg["optim"]["g"]["name"], ost["g"]["step"], s.gnamed, otensors, d.device)
        set_optim_state(s.optD, cfg["optim"]["d"]["name"], ost["d"]["step"], s.dnamed, otensors, d.device)
    s.wasserstein = meta.get("loss", "wasserstein" if model == "wgan" else "bce") == "wasserstein"
    s.r1 = cfg["train"].get("r1") or 0
    s.gstep = d.wrap(GStep(s.G))
    s.dstep = d.wrap(DStep(s.D, s.wasserstein, s.r1))
    s.ncritic = cfg["train"]["n_critic"]
    s.clip = cfg["wgan"]["clip"] if s.wasserstein else 0
    s.conditional = model == "cgan"
    return s


def train_step(s, next_batch, noise):
    """One iteration in gantrain's order (Trainer.Step): n_critic D steps,
    each on next_batch()'s real (x, y) and noise()'s (z, y), with the weight
    clip after it; the G step against the updated D; the moving average of
    G. With n_critic = 1 one fake batch serves both steps, as in gantrain
    and pytorch/examples. Returns the last D step's loss (R1 included),
    D(x), D(G(z)), R1 and mean ‖∇ₓD(x)‖, and the G step's loss."""
    fake = None
    for _ in range(s.ncritic):
        real, yreal = next_batch()
        z, yf = noise()
        if s.ncritic == 1:
            fake = s.gstep(z, yf)
            fd = fake.detach()
        else:
            with torch.no_grad():
                fd = s.G(z, yf)
        s.optD.zero_grad(set_to_none=True)
        loss_d, d_real, d_fake, r1, r1_norm = s.dstep(real, yreal if s.conditional else None, fd, yf)
        loss_d.backward()
        s.optD.step()
        if s.clip:
            with torch.no_grad():
                for p in s.D.parameters():
                    p.clamp_(-s.clip, s.clip)
    if fake is None:
        z, yf = noise()
        fake = s.gstep(z, yf)
    for p in s.D.parameters():
        p.requires_grad_(False)
    out = s.D(fake, yf)
    loss_g = -out.mean() if s.wasserstein else F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
    s.optG.zero_grad(set_to_none=True)
    loss_g.backward()
    s.optG.step()
    for p in s.D.parameters():
        p.requires_grad_(True)
    if s.ema is not None:
        update_ema(s.ema, s.G, s.ema_beta)
    return loss_d, loss_g, d_real, d_fake, r1, r1_norm


def save_checkpoint(out, s, meta, step, epoch):
    """Writes OUT/model.safetensors, optim.safetensors, g_ema.safetensors
    (train.ema) and, last, gantrain.json, each replaced atomically."""
    cfg, model = meta["config"], meta["model"]
    sd = {**models.state_for(s.G, "g.", s.names), **models.state_for(s.D, "d.", s.names)}
    write_atomic(os.path.join(out, "model.safetensors"),
                 lambda p: stio.save(p, sd, {"format": "gantrain", "model": model, "step": str(step)}))
    ot = {**optim_tensors(s.optG, cfg["optim"]["g"]["name"], s.gnamed),
          **optim_tensors(s.optD, cfg["optim"]["d"]["name"], s.dnamed)}
    write_atomic(os.path.join(out, "optim.safetensors"),
                 lambda p: stio.save(p, ot, {"format": "gantrain-optim"}))
    epath = os.path.join(out, "g_ema.safetensors")
    if s.ema is not None:
        et = models.state_for(s.ema, "g.", s.ema_names)
        write_atomic(epath, lambda p: stio.save(p, et, {"format": "gantrain-ema", "model": model}))
    elif os.path.exists(epath):  # an earlier run's in the same --out: not this one's
        os.remove(epath)
    res = dict(meta, step=step, epoch=epoch, trained_by="pytorch",
               optim={"g": {"name": cfg["optim"]["g"]["name"], "step": opt_step(s.optG, s.gnamed)},
                      "d": {"name": cfg["optim"]["d"]["name"], "step": opt_step(s.optD, s.dnamed)}})

    def wj(p):
        with open(p, "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
    write_atomic(os.path.join(out, "gantrain.json"), wj)


def main():
    args = parse_args()
    d = Dist(args.cpu)
    meta, wpath, tensors, otensors = load_state(args.src)
    cfg, shape = meta["config"], meta["shape"]
    model = meta["model"]
    if model not in ("dcgan", "wgan", "cgan", "gan"):
        raise SystemExit(f"train.py: model {model}: not exported")
    s = setup(meta, args.src, wpath, tensors, otensors, d)

    batch = cfg["train"]["batch_size"]
    if batch % d.world:
        raise SystemExit(f"train.py: train.batch_size {batch} is not a multiple of the {d.world} processes")
    local = batch // d.world
    ncritic = s.ncritic
    conditional, K, Z = s.conditional, shape["classes"], shape["latent"]
    log_every = args.log_every or cfg["train"]["log_every"]
    ckpt_every = args.checkpoint_every if args.checkpoint_every is not None else cfg["output"]["checkpoint_every"]

    if d.rank == 0:
        os.makedirs(args.out, exist_ok=True)
    d.barrier()
    ds = dataset(meta, args, d)
    if meta["data"]["kind"] == "folder" and hasattr(ds, "classes") and meta.get("classes") and ds.classes != meta["classes"]:
        raise SystemExit(f"train.py: the folder's classes {ds.classes} are not the run's {meta['classes']}")
    if len(ds) < batch:
        raise SystemExit(f"train.py: {len(ds)} images, fewer than one batch ({batch})")
    sampler = torch.utils.data.distributed.DistributedSampler(
        ds, num_replicas=d.world, rank=d.rank, shuffle=True, seed=cfg["seed"], drop_last=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=local, sampler=sampler, drop_last=True,
                                         num_workers=args.workers, pin_memory=d.device.type == "cuda",
                                         persistent_workers=args.workers > 0)
    per_epoch = len(loader)
    start = meta["step"]
    gen = torch.Generator(device="cpu")
    gen.manual_seed(cfg["seed"] * 1000003 + start * 1009 + d.rank)

    mpath = os.path.join(args.out, "metrics.jsonl")
    if d.rank == 0:
        src_metrics = os.path.join(args.src, "metrics.jsonl")
        lines = []
        if os.path.exists(src_metrics) and os.path.abspath(src_metrics) != os.path.abspath(mpath):
            lines = [ln for ln in open(src_metrics) if ln.strip() and json.loads(ln)["step"] <= start]
        elif os.path.exists(mpath):
            lines = [ln for ln in open(mpath) if ln.strip() and json.loads(ln)["step"] <= start]
        with open(mpath, "w") as f:
            f.writelines(lines)
        extras = "".join(f", {k} {v}" for k, v in (("train.r1", s.r1), ("train.ema", s.ema_beta)) if v)
        print(f"train.py: {model} {shape}{extras} from step {start} ({wpath}), {args.steps} steps, "
              f"{d.world} process(es) on {d.device.type} ({d.backend if d.on else 'no DDP'}), "
              f"batch {batch} = {d.world} x {local}, {len(ds)} images", file=sys.stderr, flush=True)

    def save(step, epoch):
        if d.rank == 0:
            save_checkpoint(args.out, s, meta, step, epoch)

    def batches():
        epoch = (start * ncritic) // per_epoch
        while True:
            sampler.set_epoch(epoch)
            for x, y in loader:
                yield epoch, x.to(d.device, non_blocking=True), y.to(d.device, non_blocking=True)
            epoch += 1

    def noise():
        z = torch.randn(local, Z, generator=gen).to(d.device)
        y = torch.randint(0, K, (local,), generator=gen).to(d.device) if conditional else None
        return z, y

    it = batches()
    t0, seen = time.time(), 0

    def next_batch():
        nonlocal seen
        _, real, yreal = next(it)
        seen += real.shape[0]
        return real, yreal

    for step in range(start + 1, start + args.steps + 1):
        loss_d, loss_g, d_real, d_fake, r1, r1_norm = train_step(s, next_batch, noise)
        ep = step * ncritic / per_epoch
        if step % log_every == 0 or step == start + args.steps:
            ld, lg, dr, df, pr, pn = d.mean([v.item() for v in (loss_d, loss_g, d_real, d_fake, r1, r1_norm)])
            el = time.time() - t0
            if d.rank == 0:
                m = {"step": step, "epoch": round(ep, 4), "loss_d": ld, "loss_g": lg, "d_real": dr, "d_fake": df}
                if s.wasserstein:
                    m["em"] = dr - df
                if s.r1:  # part of loss_d, as in gantrain's metrics
                    m["r1"], m["r1_grad_norm"] = pr, pn
                m.update(imgs_per_s=round(seen * d.world / max(el, 1e-9), 1), elapsed_s=round(el, 1))
                with open(mpath, "a") as f:
                    f.write(json.dumps(m) + "\n")
                print(f"step {step}/{start + args.steps}  loss_d {ld:.3f} loss_g {lg:.3f}  "
                      f"D(x) {dr:.3f} D(G(z)) {df:.3f}  {m['imgs_per_s']} img/s", file=sys.stderr, flush=True)
            if not all(math.isfinite(v) for v in (ld, lg)):
                raise SystemExit(f"train.py: step {step}: a loss is not finite")
        if ckpt_every and step % ckpt_every == 0 and step != start + args.steps:
            save(step, int(ep))
    save(start + args.steps, int((start + args.steps) * ncritic / per_epoch))
    d.barrier()
    if d.rank == 0:
        print(f"train.py: wrote {args.out} at step {start + args.steps}; back in gantrain: "
              f"gantrain import {args.out} --to RUN", file=sys.stderr, flush=True)
    if d.on:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
