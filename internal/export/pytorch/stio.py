"""A tiny safetensors reader and writer (the `safetensors` package is not in
Debian bookworm). Format: 8-byte little-endian header length, a JSON header
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
{str: str}} padded with spaces to a multiple of 8, then the tensors' bytes,
row-major, little-endian, in header order with no gaps.
https://github.com/huggingface/safetensors#format
"""
import json
import struct

import numpy as np
import torch

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16,
           "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
           "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
_NAMES = {v: k for k, v in _DTYPES.items()}


def save(path, tensors, metadata=None):
    """Writes the dict name -> torch.Tensor, names sorted (as gantrain's writer does)."""
    header, chunks, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in sorted(metadata.items())}
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        if t.dtype not in _NAMES:
            raise ValueError(f"{name}: dtype {t.dtype} not supported")
        if t.dtype == torch.bfloat16:
            b = t.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            b = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in chunks:
            f.write(b)


def load(path):
    """Returns (dict name -> torch.Tensor, metadata dict). Raises ValueError naming the file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    n = struct.unpack("<Q", raw[:8])[0]
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} exceeds the file size {len(raw)}")
    try:
        header = json.loads(raw[8:8 + n])
    except ValueError as e:
        raise ValueError(f"{path}: header is not JSON: {e}") from None
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, e in header.items():
        dt = _DTYPES.get(e.get("dtype"))
        if dt is None:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {e.get('dtype')}")
        b, en = e["data_offsets"]
        if not 0 <= b <= en <= len(data):
            raise ValueError(f"{path}: tensor {name}: data offsets {b}, {en} outside the data")
        shape = list(e["shape"])
        if dt == torch.bfloat16:
            t = torch.from_numpy(np.frombuffer(data[b:en], "<i2").copy()).view(torch.bfloat16)
        else:
            npdt = torch.empty(0, dtype=dt).numpy().dtype.newbyteorder("<")
            t = torch.from_numpy(np.frombuffer(data[b:en], npdt).astype(npdt.newbyteorder("=")))
        if t.numel() != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: tensor {name}: {en - b} bytes do not fit shape {shape}")
        out[name] = t.reshape(shape)
    return out, meta
