#!/usr/bin/env python3
"""The machine's float32 GEMM peak as numpy/OpenBLAS reaches it.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 scripts/sgemm-peak.py [n] [threads...]

Times n×n×n SGEMMs (default 2048) and prints, per thread count, the median
GFLOP/s by wall time and per CPU-second of the process (steadier on a
shared machine), with the OpenBLAS build and kernel numpy runs (threadpoolctl).
OPENBLAS_CORETYPE, where set, pins OpenBLAS to older kernels: unset it (and
OPENBLAS_L2_SIZE) for the peak, as above.
"""
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
threads = [int(t) for t in sys.argv[2:]] or [1, 2]
for i in threadpool_info():
    print(f"{i.get('internal_api')} {i.get('version')} kernel {i.get('architecture')}")
rng = np.random.default_rng(1)
a = rng.random((n, n), dtype=np.float32)
b = rng.random((n, n), dtype=np.float32)
for th in threads:
    with threadpool_limits(th):
        a @ b
        wall, cpu = [], []
        for _ in range(15):
            t, c = time.perf_counter(), time.process_time()
            a @ b
            wall.append(2 * n**3 / (time.perf_counter() - t) / 1e9)
            cpu.append(2 * n**3 / (time.process_time() - c) / 1e9)
        wall.sort()
        cpu.sort()
        print(f"threads={th} {n}x{n}x{n}: median {wall[7]:.1f} GFLOP/s wall, "
              f"{cpu[7]:.1f} GFLOP per CPU-second (best wall {wall[-1]:.1f})")
