#!/usr/bin/python3
"""Checks that a gantrain 32/64 px DCGAN-family checkpoint loads, unchanged,
into the PyTorch modules of pytorch/examples' DCGAN (scripts/torch/models.py)
and that PyTorch's generator reproduces gantrain's samples.

    gantrain sample --run R --n 16 --save-z z.npy --format npy --out out.npy
    /usr/bin/python3 scripts/torch/check-gantrain.py R z.npy out.npy

RUN_OR_SAFETENSORS: a run directory (its newest checkpoints/step-*/model.safetensors),
a checkpoint directory, or a .safetensors file. The `g.` / `d.` tensors are
loaded with load_state_dict(strict=True) after stripping the prefix (D only
if the file has `d.` tensors); size, channels, width, latent size and classes
come from the tensor shapes; each tensor's dtype must be the module's (F32,
num_batches_tracked I64). G runs in eval mode on z (N, nz) from Z.npy; for a
conditional model the labels come from OUT's <stem>.labels.npy (as gantrain
sample writes them) and z is repeated when OUT has one row of N per class.
Prints max |PyTorch - gantrain| and exits 1 above 1e-4 (2 on bad input).

    check-gantrain.py --self-test   runs the check against the committed
    PyTorch fixtures (testdata/torch/*.safetensors: z and g_eval), and makes
    sure a perturbed output fails.
"""
import glob
import os
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models  # noqa: E402
import stio  # noqa: E402

TOL = 1e-4


class BadInput(Exception):
    pass


def model_file(path):
    if os.path.isfile(path):
        return path
    if not os.path.isdir(path):
        raise BadInput(f"{path}: no such file or directory")
    if os.path.isfile(os.path.join(path, "model.safetensors")):
        return os.path.join(path, "model.safetensors")
    steps = sorted(glob.glob(os.path.join(path, "checkpoints", "step-*", "model.safetensors")))
    if not steps:
        raise BadInput(f"{path}: no model.safetensors and no checkpoints/step-*/model.safetensors")
    return steps[-1]


def load_modules(path):
    """(G, D or None, description) from a safetensors file, strict."""
    try:
        tensors, _ = stio.load(path)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BadInput(f"{path}: {e}") from None
    parts = {}
    for prefix in ("g", "d"):
        sd = {k[2:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
        if sd:
            parts[prefix] = sd
    if "g" not in parts:
        raise BadInput(f"{path}: no g.* tensors")
    out = {}
    for prefix, sd in parts.items():
        try:
            kw = models.infer(sd, prefix)
            m = models.Generator(**kw) if prefix == "g" else models.Discriminator(**kw)
        except (ValueError, KeyError, IndexError) as e:
            raise BadInput(f"{path}: {prefix}.*: cannot infer the model: {e}") from None
        want = m.state_dict()
        for k, v in sd.items():
            if k in want and v.dtype != want[k].dtype:
                raise BadInput(f"{path}: {prefix}.{k}: dtype {v.dtype}, PyTorch has {want[k].dtype}")
        try:
            m.load_state_dict(sd, strict=True)
        except RuntimeError as e:
            msg = "; ".join(line.strip() for line in str(e).splitlines()[1:] if line.strip())
            raise BadInput(f"{path}: {prefix}.*: load_state_dict(strict=True): {msg[:300]}") from None
        out[prefix] = (m.eval(), kw)
    desc = f"G {out['g'][1]}" + (f", D {out['d'][1]}" if "d" in out else ", no D")
    return out["g"][0], out.get("d", (None,))[0], desc


def load_npy(path, what):
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise BadInput(f"{path}: cannot read {what} .npy: {e}") from None
    return a


def check(model, zpath, outpath):
    g, _, desc = load_modules(model_file(model))
    z = load_npy(zpath, "latent")
    out = load_npy(outpath, "image")
    if z.ndim != 2 or z.shape[1] != g.nz:
        raise BadInput(f"{zpath}: shape {z.shape}, want (N, {g.nz})")
    want = (g.nc, g.size, g.size)
    if out.ndim != 4 or out.shape[1:] != want:
        raise BadInput(f"{outpath}: shape {out.shape}, want (N, {', '.join(map(str, want))})")
    if out.shape[0] % z.shape[0] != 0:
        raise BadInput(f"{outpath}: {out.shape[0]} images is not a multiple of the {z.shape[0]} latent vectors of {zpath}")
    z = np.tile(z, (out.shape[0] // z.shape[0], 1))
    y = None
    if g.classes:
        lpath = os.path.splitext(outpath)[0] + ".labels.npy"
        y = load_npy(lpath, "labels")
        if y.shape != (out.shape[0],) or y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= g.classes:
            raise BadInput(f"{lpath}: want {out.shape[0]} integer labels in [0, {g.classes})")
        y = torch.from_numpy(y.astype(np.int64))
    with torch.no_grad():
        got = g(torch.from_numpy(z.astype(np.float32)), y).numpy()
    diff = float(np.abs(got.astype(np.float64) - out.astype(np.float64)).max())
    print(f"{desc}\n{out.shape[0]} images: max |PyTorch - gantrain| = {diff:.3g} (max |image| {np.abs(out).max():.3g})")
    return diff


def self_test():
    fixtures = sorted(glob.glob(os.path.join(HERE, "..", "..", "testdata", "torch", "*.safetensors")))
    if not fixtures:
        raise BadInput("no testdata/torch/*.safetensors")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for f in fixtures:
            t, _ = stio.load(f)
            zp, op = os.path.join(tmp, "z.npy"), os.path.join(tmp, "out.npy")
            np.save(zp, t["z"].numpy())
            np.save(op, t["g_eval"].numpy())
            if "y" in t:
                np.save(os.path.join(tmp, "out.labels.npy"), t["y"].numpy())
            print(f"== {os.path.basename(f)}")
            good = check(f, zp, op) <= TOL
            bad = t["g_eval"].numpy().copy()
            bad.flat[bad.size // 2] += 1e-3
            np.save(op, bad)
            caught = check(f, zp, op) > TOL
            ok &= good and caught
            print(f"fixture within {TOL}: {good}; perturbed output caught: {caught}")
    return ok


def main():
    args = sys.argv[1:]
    try:
        if args == ["--self-test"]:
            return 0 if self_test() else 1
        if len(args) != 3:
            print(__doc__, file=sys.stderr)
            return 2
        torch.set_num_threads(1)
        diff = check(*args)
    except BadInput as e:
        print(f"check-gantrain.py: {e}", file=sys.stderr)
        return 2
    if diff > TOL:
        print(f"FAIL: above {TOL}")
        return 1
    print(f"OK: within {TOL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
