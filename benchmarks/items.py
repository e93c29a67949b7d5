"""PyTorch side of `make bench`: runs one item and prints one JSON line (times in seconds, the
work's FLOPs counted by hooks, peak RSS). Usage: items.py ITEM --threads N --reps R [--warmup W]"""
import argparse
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import models as m

def alpha_bar(step):
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    return float(torch.cumprod(1 - betas, 0)[step])


class FlopCounter:
    """2·MACs of every convolution, linear layer and attention product in a forward pass."""

    def __init__(self, *modules):
        self.flop = 0
        self.handles = []
        for module in modules:
            for sub in module.modules():
                if isinstance(sub, (nn.Conv1d, nn.Conv2d, nn.Linear, m.SpatialSelfAttention, m.AttnBlock)):
                    self.handles.append(sub.register_forward_hook(self.hook))

    def hook(self, module, inputs, output):
        x = inputs[0]
        if isinstance(module, nn.Linear):
            self.flop += 2 * x.numel() // x.shape[-1] * module.in_features * module.out_features
        elif isinstance(module, (nn.Conv1d, nn.Conv2d)):
            k = module.weight[0].numel()  # in/groups · kernel
            self.flop += 2 * output.numel() * k
        elif isinstance(module, m.SpatialSelfAttention):
            b, c, h, w = x.shape
            self.flop += 4 * b * module.heads * (h * w) ** 2 * module.dim_head
        elif isinstance(module, m.AttnBlock):
            b, c, h, w = x.shape
            self.flop += 4 * b * (h * w) ** 2 * c

    def close(self):
        for h in self.handles:
            h.remove()


def build(item, best=False):
    """(callable running the item once, modules whose forward FLOPs count, FLOP multiplier).
    best: PyTorch at its best on a CPU (channels-last inputs; main() converts the modules)."""
    g = torch.Generator().manual_seed(1)

    def layout(t):
        return t.contiguous(memory_format=torch.channels_last) if best and t.dim() == 4 else t
    if item.startswith("unet-"):
        size = int(item.split("-")[1])
        net = m.EfficientUNet(**m.PAPER_UNET).eval()
        x, c, t = layout(torch.randn(1, 4, size, size, generator=g)), layout(torch.randn(1, 4, size, size, generator=g)), torch.tensor([0.5])
        return (lambda: net(x, t, c)), [net], 1
    if item.startswith("vae-"):
        _, kind, size = item.split("-")
        vae = m.AutoencoderKL().eval()
        if kind == "encode":
            x = layout(torch.rand(1, 3, int(size), int(size), generator=g) * 2 - 1)
            return (lambda: vae.encode(x)), [vae], 1
        z = layout(torch.randn(1, 4, int(size) // 8, int(size) // 8, generator=g))
        return (lambda: vae.decode(z)), [vae], 1
    if item.startswith("taef2-"):
        _, kind, size = item.split("-")
        s = int(size)
        if kind == "encode":
            enc = m.tae_encoder().eval()
            x = layout(torch.rand(1, 3, s, s, generator=g))
            return (lambda: enc(x)), [enc], 1
        dec = m.tae_decoder().eval()
        z = layout(torch.randn(1, 32, s // 8, s // 8, generator=g))
        return (lambda: dec(z)), [dec], 1
    if item.startswith("sd-unet-"):
        # diffusers' UNet2DConditionModel with SD1.5's config, random weights, one guided evaluation.
        from diffusers import UNet2DConditionModel
        s = int(item.split("-")[2]) // 8
        net = UNet2DConditionModel(cross_attention_dim=768, attention_head_dim=8, sample_size=64).eval()
        x, ctx = layout(torch.randn(2, 4, s, s, generator=g)), torch.randn(2, 77, 768, generator=g)
        return (lambda: net(x, 500, encoder_hidden_states=ctx)), [net], 1
    if item.startswith("train-"):
        name = item[len("train-"):]
        spec, batch, channels, size, lr = {
            "cpu-tiny": (m.CPU_TINY_UNET, 4, 3, 64, 2e-4),
            "default-2x": (m.DEFAULT_2X_UNET, 8, 12, 64, 2.5e-4),
        }[name]
        net = m.EfficientUNet(**spec).train()
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        x1, x0, c = (layout(torch.randn(batch, channels, size, size, generator=g)) for _ in range(3))

        def step():
            t = torch.rand(batch, generator=g)
            tt = t[:, None, None, None]
            xt = (1 - tt) * x0 + tt * x1
            loss = (net(xt, t, c) - (x1 - x0)).square().mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
        return step, [net], 3  # forward + backward ≈ 3 forwards
    if item == "upsample-512":
        net, vae = m.EfficientUNet(**m.PAPER_UNET).eval(), m.AutoencoderKL().eval()
        image = layout(torch.rand(1, 3, 512, 512, generator=g) * 2 - 1)
        a = alpha_bar(400)

        def upsample():
            up = F.interpolate(image, size=(1024, 1024), mode="bilinear", align_corners=False)
            context = vae.encode(up) * 0.18215
            x = context * a ** 0.5 + torch.randn(context.shape, generator=g) * (1 - a) ** 0.5
            ts = torch.linspace(0, 1, 11)
            for i in range(10):
                x = x + (ts[i + 1] - ts[i]) * net(x, ts[i:i + 1], context)
            return vae.decode(x / 0.18215)
        return upsample, [net, vae], 1
    if item == "default2x-512":
        # The shipped default model's 512 → 1024 px (its pipeline: PSU with the exact pixel-unshuffle ×2
        # first stage, scale 1.8, no noise, Euler 1 step from t = 0), random weights of its shapes.
        net = m.EfficientUNet(**m.DEFAULT_2X_UNET).eval()
        image = layout(torch.rand(1, 3, 512, 512, generator=g) * 2 - 1)

        def upsample():
            up = F.interpolate(image, size=(1024, 1024), mode="bilinear", align_corners=False)
            context = F.pixel_unshuffle(up, 2) * 1.8
            x = context + net(context, torch.zeros(1), context)
            return F.pixel_shuffle(x / 1.8, 2)
        return upsample, [net], 1
    raise SystemExit(f"unknown item {item}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("item")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--best", action="store_true", help="channels-last modules and inputs, inference_mode")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    run, modules, multiplier = build(a.item, a.best)
    grad = a.item.startswith("train-")
    if a.best:
        for module in modules:
            module.to(memory_format=torch.channels_last)
    mode = torch.inference_mode() if a.best and not grad else torch.set_grad_enabled(grad)
    with mode:
        counter = FlopCounter(*modules)  # on the first run (a warm-up run, or the first timed one)
        times, system = [], []
        for i in range(a.warmup + a.reps):
            start, start_sys = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_stime
            run()
            if i >= a.warmup:
                times.append(time.perf_counter() - start)
                system.append(resource.getrusage(resource.RUSAGE_SELF).ru_stime - start_sys)
            if i == 0:
                counter.close()
    print(json.dumps({"side": "pytorch-best" if a.best else "pytorch", "item": a.item, "times": times, "system": system, "gflop": counter.flop * multiplier / 1e9,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": a.threads,
                      "version": torch.__version__}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
