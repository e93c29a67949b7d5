"""PyTorch side of the conv2d micro-benchmark: the same work as `fmboost-bench conv2d`."""
import sys
import time

import torch

iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20
threads = int(sys.argv[2]) if len(sys.argv) > 2 else torch.get_num_threads()
torch.set_num_threads(threads)
g = torch.Generator().manual_seed(0)
x = torch.randn(1, 256, 64, 64, generator=g)
w = torch.randn(256, 256, 3, 3, generator=g) * 0.02
b = torch.randn(256, generator=g)
flop = 2.0 * 256 * 256 * 9 * 64 * 64
with torch.no_grad():
    for _ in range(3):
        torch.nn.functional.conv2d(x, w, b, padding=1)
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        torch.nn.functional.conv2d(x, w, b, padding=1)
        times.append(time.perf_counter() - start)
times.sort()
m = times[len(times) // 2] if len(times) % 2 else (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2
print(f"pytorch  conv2d 256->256 3x3 64x64 b1: median {m * 1e3:.2f} ms, {flop / m / 1e9:.1f} GFLOP/s "
      f"({flop / 1e9:.2f} GFLOP, {threads} threads, torch {torch.__version__})")
