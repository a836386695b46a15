#!/usr/bin/env python3
"""PyTorch peer of gantrain's DCGAN, for speed.

--size 28 (default): the layers, initialisation, losses and optimisers of
shared/notes/reference-models.md (configs/dcgan-paper.yaml: 28 px MNIST DCGAN).
--size 32 or 64: pytorch/examples' DCGAN (scripts/torch/models.py, the
modules gantrain's checkpoints load into) with --channels and --width, as
configs/emoji-dcgan.yaml builds it. Batch 64, Adam 2e-4, β = (0.5, 0.999),
synthetic batches like `gantrain bench`. Prints one JSON line: real
images/s (wall) and per CPU-second of the process.

    python3 scripts/peer/dcgan.py --threads 2 [--size 64 --channels 3] [--shared-fake] [--bf16] [--iters 15]

--shared-fake: one generator pass per iteration, its output used by the D
step (detached) and the G step, as PyTorch's DCGAN example and gantrain do;
without it the G step draws a new fake batch. --bf16: CPU autocast to
bfloat16 (AVX512_BF16 or AMX where the CPU has them).
"""
import argparse
import json
import os
import sys
import time

import torch
from torch import nn


def generator():
    return nn.Sequential(
        nn.Linear(100, 6272, bias=False), nn.BatchNorm1d(6272), nn.ReLU(),
        nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())


def discriminator():
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(6272, 1))


def init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(m.weight, 1, 0.02)
        nn.init.zeros_(m.bias)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--iters", type=int, default=15)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--shared-fake", action="store_true")
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--channels", type=int, default=None, help="1 or 3 (default: 1 at 28 px, else 3)")
    p.add_argument("--width", type=int, default=64)
    a = p.parse_args()
    if a.threads < 1 or a.iters < 1 or a.warmup < 0:
        p.error("--threads and --iters must be ≥ 1, --warmup ≥ 0")
    nc = a.channels or (1 if a.size == 28 else 3)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    if a.size == 28:
        if nc != 1 or a.width != 64:
            p.error("--size 28 is the reference MNIST DCGAN: 1 channel, width 64")
        g, d = generator(), discriminator()
        g.apply(init)
        d.apply(init)
    else:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
        import models  # scripts/torch/models.py: pytorch/examples' DCGAN
        if a.size not in (32, 64) or nc not in (1, 3):
            p.error("--size must be 28, 32 or 64, --channels 1 or 3")
        g, d = models.Generator(a.size, nc, 100, a.width), models.Discriminator(a.size, nc, a.width)
        g.apply(models.weights_init)
        d.apply(models.weights_init)
    og = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    b = 64
    real = torch.rand(b, nc, a.size, a.size) * 2 - 1
    ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16)

    def step():
        z = torch.randn(b, 100)
        with autocast():
            fake = g(z)
            ld = bce(d(real).float().view(b, 1), ones) + bce(d(fake.detach()).float().view(b, 1), zeros)
        od.zero_grad(set_to_none=True)
        ld.backward()
        od.step()
        with autocast():
            if not a.shared_fake:
                fake = g(torch.randn(b, 100))
            lg = bce(d(fake).float().view(b, 1), ones)
        og.zero_grad(set_to_none=True)
        lg.backward()
        og.step()

    for _ in range(a.warmup):
        step()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(a.iters):
        step()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    print(json.dumps({
        "peer": "pytorch " + torch.__version__, "size": a.size, "channels": nc, "threads": a.threads, "shared_fake": a.shared_fake,
        "bf16": a.bf16, "iters": a.iters, "imgs_per_s": round(a.iters * b / wall, 1),
        "imgs_per_cpu_s": round(a.iters * b / cpu, 1)}))


if __name__ == "__main__":
    main()
