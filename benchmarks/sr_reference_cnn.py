# Diagnostic for the default model (docs/default-model.md, "What was tried"): a plain residual SR CNN (EDSR-style
# blocks at low resolution, pixel shuffle, bicubic skip) trained on data/sr-photos/train as
# fmboost trains (128 px crops, antialiased bicubic x1/2 LR, 8 orientations, MSE), scored with
# `fmboost eval --max-side 1024`'s protocol (centre crops <= 1024 px, Y-PSNR, 2 px shaved).
# Usage: python sr_reference_cnn.py STEPS WIDTH BLOCKS LR   (needs torch, numpy, pillow; run from anywhere)
# Measured: 1500 48 6 1e-3 -> mean Y-PSNR 32.59 against bicubic 31.20 (+1.39 dB), 21 minutes.
import glob, math, os, sys, time, random
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
torch.set_num_threads(2); torch.manual_seed(0); random.seed(0)
steps = int(sys.argv[1]); width = int(sys.argv[2]); blocks = int(sys.argv[3]); lr0 = float(sys.argv[4])
def load(p):
    return torch.from_numpy(np.asarray(Image.open(p).convert('RGB'))).permute(2, 0, 1).contiguous()
train = [load(p) for p in sorted(glob.glob(ROOT + '/data/sr-photos/train/*')) if not p.endswith('.md')]
train = [t for t in train if min(t.shape[1:]) >= 128]
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.head = nn.Conv2d(3, width, 3, padding=1)
        s.body = nn.ModuleList([nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1)) for _ in range(blocks)])
        s.tail = nn.Conv2d(width, 12, 3, padding=1)
    def forward(s, lr):
        h = s.head(lr); x = h
        for b in s.body: x = x + b(x)
        return F.pixel_shuffle(s.tail(x + h), 2) + F.interpolate(lr, scale_factor=2, mode='bicubic', align_corners=False)
net = Net(); opt = torch.optim.Adam(net.parameters(), lr=lr0)
print('params', sum(p.numel() for p in net.parameters()))
def batch(n=8, s=128):
    out = []
    for _ in range(n):
        t = random.choice(train); y = random.randint(0, t.shape[1] - s); x = random.randint(0, t.shape[2] - s)
        c = t[:, y:y+s, x:x+s]
        if random.random() < .5: c = c.flip(2)
        if random.random() < .5: c = c.flip(1)
        if random.random() < .5: c = c.transpose(1, 2)
        out.append(c)
    hr = torch.stack(out).float() / 127.5 - 1
    return F.interpolate(hr, scale_factor=.5, mode='bicubic', antialias=True).clamp(-1, 1), hr
t0 = time.time()
for step in range(steps):
    for g in opt.param_groups: g['lr'] = lr0 * 0.5 * (1 + math.cos(math.pi * step / steps)) * min(1, (step + 1) / 100)
    lr, hr = batch(); loss = F.mse_loss(net(lr), hr)
    opt.zero_grad(); loss.backward(); opt.step()
    if step % 200 == 0: print(step, float(loss), f'{time.time()-t0:.0f}s', flush=True)
def luma(img):
    q = ((img.clamp(-1, 1) + 1) * 127.5).round() / 255
    q = q[:, :, 2:-2, 2:-2].double()
    return q[:, 0] * 65.481 + q[:, 1] * 128.553 + q[:, 2] * 24.966 + 16
def psnr(a, b): return float(-10 * torch.log10(((luma(a) - luma(b)) ** 2).mean() / 255 ** 2))
rows = []
with torch.no_grad():
    for p in sorted(glob.glob(ROOT + '/data/sr-photos/validation/*')):
        if p.endswith('.md'): continue
        t = load(p); H, W = t.shape[1:]
        h, w = min(H, 1024), min(W, 1024); y0, x0 = (H - h) // 2, (W - w) // 2
        t = t[:, y0:y0+h, x0:x0+w]; t = t[:, :h//2*2, :w//2*2]
        hr = t[None].float() / 127.5 - 1
        lr = F.interpolate(hr, scale_factor=.5, mode='bicubic', antialias=True).clamp(-1, 1)
        bic = F.interpolate(lr, scale_factor=2, mode='bicubic', align_corners=False)
        rows.append((psnr(bic, hr), psnr(net(lr), hr), p.split('/')[-1]))
for r in rows: print(f'{r[2]:50s} bicubic {r[0]:.2f} model {r[1]:.2f} gain {r[1]-r[0]:+.2f}')
b = np.mean([r[0] for r in rows]); m = np.mean([r[1] for r in rows]); print(f'MEAN bicubic {b:.2f} model {m:.2f} gain {m-b:+.2f}  ({time.time()-t0:.0f}s)')
