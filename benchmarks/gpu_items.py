"""PyTorch's side of scripts/gpu-check.sh: 512 -> 1024 px upsampling on a device, timed, with the
paper's networks (PAPER_UNET + SD's autoencoder, PSU, noise augmentation at step 400, Euler) and
with the default model's shapes (pixel-unshuffle x2, one Euler step), random weights; `--save DIR`
writes the paper UNet's weights and config, and random SD autoencoder weights, for the Swift side."""
import argparse
import json
import os
import time

import torch
import torch.nn.functional as F

import models as m
from items import alpha_bar


def paper(device, steps):
    g = torch.Generator().manual_seed(1)
    net, vae = m.EfficientUNet(**m.PAPER_UNET).eval().to(device), m.AutoencoderKL().eval().to(device)
    image = (torch.rand(1, 3, 512, 512, generator=g) * 2 - 1).to(device)
    a = alpha_bar(400)

    def run():
        up = F.interpolate(image, size=(1024, 1024), mode="bilinear", align_corners=False)
        context = vae.encode(up) * 0.18215
        x = context * a ** 0.5 + torch.randn(context.shape, generator=g).to(device) * (1 - a) ** 0.5
        ts = torch.linspace(0, 1, steps + 1)
        for i in range(steps):
            x = x + float(ts[i + 1] - ts[i]) * net(x, ts[i:i + 1].to(device), context)
        return vae.decode(x / 0.18215)
    return run, (net, vae)


def default2x(device):
    net = m.EfficientUNet(**m.DEFAULT_2X_UNET).eval().to(device)
    image = (torch.rand(1, 3, 512, 512, generator=torch.Generator().manual_seed(1)) * 2 - 1).to(device)

    def run():
        up = F.interpolate(image, size=(1024, 1024), mode="bilinear", align_corners=False)
        context = F.pixel_unshuffle(up, 2) * 1.8
        return F.pixel_shuffle((context + net(context, torch.zeros(1, device=device), context)) / 1.8, 2)
    return run, (net,)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("item", choices=["upsample-512", "default2x-512"])
    p.add_argument("--device", default="cuda")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--save", help="folder for unet.pt, unet.json and vae.pt (upsample-512)")
    p.add_argument("--vae-shapes", default="../../shared/golden/sd_vae.shapes.json", help="SD's autoencoder keys and shapes")
    a = p.parse_args()
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    run, modules = paper(a.device, a.steps) if a.item == "upsample-512" else default2x(a.device)
    if a.save:
        os.makedirs(a.save, exist_ok=True)
        torch.save({k: v.cpu() for k, v in modules[0].state_dict().items()}, os.path.join(a.save, "unet.pt"))
        # models.py's autoencoder names its modules its own way: the Swift side gets random weights
        # of SD's (LDM key names and shapes, from the golden fixtures' list).
        with open(a.vae_shapes) as f:
            shapes = json.load(f)["tensors"]
        g = torch.Generator().manual_seed(2)
        torch.save({k: torch.randn(s, generator=g) * 0.02 for k, s in shapes.items()}, os.path.join(a.save, "vae.pt"))
        with open(os.path.join(a.save, "unet.json"), "w") as f:
            json.dump({"use_linear_attn": False, **m.PAPER_UNET}, f)
    sync = torch.cuda.synchronize if a.device.startswith("cuda") else (lambda: None)
    times = []
    with torch.inference_mode():
        for i in range(a.reps + 1):  # the first run warms up (cuDNN's algorithm search)
            sync()
            start = time.perf_counter()
            run()
            sync()
            if i:
                times.append(time.perf_counter() - start)
    print(json.dumps({"item": a.item, "device": a.device, "times": times, "median": sorted(times)[len(times) // 2], "torch": torch.__version__}))


if __name__ == "__main__":
    main()
