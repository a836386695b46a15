#!/usr/bin/env python3
"""Run the generator of an export or of train.py's output on given z, and
compare with gantrain's images of the same z.

    gantrain sample --run RUN --n 16 --save-z z.npy --format npy --out gantrain.npy
    python3 sample.py --from OUT --z z.npy --compare gantrain.npy   # prints max |PyTorch - gantrain|

--from DIR: a directory with gantrain.json and model.safetensors (train.py's
--out) or weights.safetensors (the export; the default). A run trained with
train.ema samples from the moving average of G (g_ema.safetensors beside
them), as gantrain sample does. G runs in eval mode (running batch-norm
statistics), as gantrain samples. A conditional model's
labels come from --labels, else from COMPARE's <stem>.labels.npy (gantrain
writes it), else cycle 0..K-1. Exit 1 when the difference exceeds --tol
(default 1e-4), 2 on bad input.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models  # noqa: E402
import stio  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--from", dest="src", default=HERE)
    p.add_argument("--z", required=True)
    p.add_argument("--labels")
    p.add_argument("--out", help="write PyTorch's images here (.npy)")
    p.add_argument("--compare", help="gantrain's images of the same z (.npy)")
    p.add_argument("--tol", type=float, default=1e-4)
    a = p.parse_args()
    torch.set_num_threads(1)
    try:
        meta = json.load(open(os.path.join(a.src, "gantrain.json")))
        w = os.path.join(a.src, "model.safetensors")
        if not os.path.exists(w):
            w = os.path.join(a.src, "weights.safetensors")
        ema = os.path.join(a.src, "g_ema.safetensors")
        if os.path.exists(ema):  # the moving average of G, as gantrain samples a run trained with train.ema
            w = ema
        tensors, _ = stio.load(w)
        s = meta["shape"]
        G, _ = models.build_for(meta)
        models.load(G, "g.", tensors, w)
        z = np.load(a.z)
        if z.ndim != 2 or z.shape[1] != s["latent"] or z.dtype != np.float32:
            raise ValueError(f"{a.z}: {z.dtype} {z.shape}, want float32 (N, {s['latent']})")
        ref = np.load(a.compare) if a.compare else None
        n = ref.shape[0] if ref is not None else z.shape[0]
        if n % z.shape[0]:
            raise ValueError(f"{a.compare}: {n} images for {z.shape[0]} latent vectors")
        z = np.tile(z, (n // z.shape[0], 1))
        y = None
        if meta["model"] == "cgan":
            lp = a.labels or (os.path.splitext(a.compare)[0] + ".labels.npy" if a.compare else None)
            y = np.load(lp) if lp and os.path.exists(lp) else np.arange(n) % s["classes"]
            y = torch.from_numpy(y.astype(np.int64))
    except (OSError, ValueError, KeyError) as e:
        print(f"sample.py: {e}", file=sys.stderr)
        return 2
    with torch.no_grad():
        out = G.eval()(torch.from_numpy(z), y).numpy()
    if a.out:
        np.save(a.out, out)
    if ref is None:
        return 0
    if ref.shape != out.shape:
        print(f"sample.py: {a.compare}: shape {ref.shape}, PyTorch made {out.shape}", file=sys.stderr)
        return 2
    diff = float(np.abs(out.astype(np.float64) - ref.astype(np.float64)).max())
    which = ", the moving average of G" if w == ema else ""
    print(f"{meta['model']} step {meta['step']}{which}: {n} images, max |PyTorch - gantrain| = {diff:.3g}")
    return 0 if diff <= a.tol else 1


if __name__ == "__main__":
    sys.exit(main())
