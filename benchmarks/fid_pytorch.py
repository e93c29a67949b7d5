"""PyTorch's side of benchmarks/fid-time.sh: Inception features of every PNG in two folders with
torch.jit.load of the same TorchScript file `fmboost fid` reads, the package's preprocessing
(TF bilinear resize to 299, (v - 128) / 128), batches of 16, then FID (scipy sqrtm, as pytorch-fid).

    python benchmarks/fid_pytorch.py DIR_A DIR_B MODEL [--threads N] [--best]

--best: torch.jit.freeze + optimize_for_inference, channels-last, inference_mode (PyTorch at its
best on this CPU). Prints `FID <value>` and `seconds <wall>`.
"""
import argparse
import glob
import os
import time

import numpy as np
import torch
from PIL import Image


def tf_resize(x, size=299):
    # TF1 resize_bilinear(align_corners=False): output j samples input j * in / out, edge clamped.
    n = x.shape[-1]
    src = torch.arange(size, dtype=torch.float64) * (n / size)
    lo = src.floor().long().clamp(max=n - 1)
    hi = (lo + 1).clamp(max=n - 1)
    w = (src - lo).float()
    x = x[:, :, lo] + (x[:, :, hi] - x[:, :, lo]) * w.view(1, 1, -1, 1)
    return x[:, :, :, lo] + (x[:, :, :, hi] - x[:, :, :, lo]) * w.view(1, 1, 1, -1)


def features(model, folder, best):
    files = sorted(glob.glob(os.path.join(folder, "*.png")))
    rows = []
    for start in range(0, len(files), 16):
        batch = [np.asarray(Image.open(f).convert("RGB")) for f in files[start:start + 16]]
        x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float()
        x = tf_resize(x).clamp(0, 255) / 255 * 1.9921875 - 1
        if best:
            x = x.contiguous(memory_format=torch.channels_last)
        rows.append(model(x.clamp(-1, 0.9921875)))
    return torch.cat(rows).double().numpy()


def fid(a, b):
    from scipy import linalg
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("model")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--best", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = torch.jit.load(args.model).eval()
    if args.best:
        model = torch.jit.optimize_for_inference(torch.jit.freeze(model))
    with torch.inference_mode():
        fa, fb = features(model, args.a, args.best), features(model, args.b, args.best)
    print(f"FID {fid(fa, fb):.4f}")
    print(f"seconds {time.perf_counter() - start:.1f}")


if __name__ == "__main__":
    main()
