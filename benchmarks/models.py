"""PyTorch re-statements of the benchmarked networks (random weights of the real shapes), written
from the original's definitions: FMBoost's EfficientUNet, the LDM/SD AutoencoderKL and the
TAESD family (TAEF2). Only what the forward pass needs; the Swift side builds the same shapes."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def gn(channels, eps=1e-5):
    return nn.GroupNorm(32, channels, eps=eps)


# ---- EfficientUNet (fmboost/models/unet) ---------------------------------------------------------

def timestep_embedding(t, dim, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    return F.pad(emb, (0, 1)) if dim % 2 else emb


class ResBlock(nn.Module):
    def __init__(self, ch, emb_ch, out_ch, scale_shift=True, group_norm=True):
        super().__init__()
        self.out_ch, self.scale_shift = out_ch, scale_shift
        norm = gn if group_norm else (lambda _: nn.Identity())
        self.in_layers = nn.Sequential(norm(ch), nn.SiLU(), nn.Conv2d(ch, out_ch, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_ch, 2 * out_ch if scale_shift else out_ch))
        self.out_layers = nn.Sequential(norm(out_ch), nn.SiLU(), nn.Dropout(0.0), nn.Conv2d(out_ch, out_ch, 3, padding=1))
        self.skip_connection = nn.Identity() if ch == out_ch else nn.Conv2d(ch, out_ch, 1)

    def forward(self, x, emb):
        h = self.in_layers(x)
        e = self.emb_layers(emb)[..., None, None]
        norm, rest = self.out_layers[0], self.out_layers[1:]
        if self.scale_shift:
            scale, shift = e.chunk(2, dim=1)
            h = rest(norm(h) * (1 + scale) + shift)
        else:
            h = rest(norm(h + e))
        return self.skip_connection(x) + h


class SpatialSelfAttention(nn.Module):
    """The original's (B, 3·inner, L) → (B, heads, L, 3·d) reshape *without a transpose* (spec 3.4), then
    softmax attention (SDPA semantics) or, with `linear`, LinearQKVAttention: q softmaxed over the
    features and scaled by 1/√d, k softmaxed over the tokens, out = q·(kᵀv)."""

    def __init__(self, ch, heads, dim_head, linear=False):
        super().__init__()
        self.heads, self.dim_head, self.linear = heads, dim_head, linear
        inner = heads * dim_head
        self.norm = gn(ch)
        self.qkv = nn.Conv1d(ch, 3 * inner, 1)
        self.proj_out = nn.Conv1d(inner, ch, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        flat = x.reshape(b, c, h * w)
        y = self.qkv(self.norm(flat)).reshape(b, self.heads, h * w, 3 * self.dim_head)
        q, k, v = y.chunk(3, dim=-1)
        if self.linear:
            q = q.softmax(dim=-1) * self.dim_head ** -0.5
            k = k.softmax(dim=-2)
            o = q @ (k.transpose(-1, -2) @ v)
        else:
            o = torch.softmax(q @ k.transpose(-1, -2) * self.dim_head ** -0.5, dim=-1) @ v
        out = self.proj_out(o.reshape(b, self.heads * self.dim_head, h * w))
        return (flat + out).reshape(b, c, h, w)


class Seq(nn.ModuleList):
    def forward(self, x, emb):
        for layer in self:
            x = layer(x, emb) if isinstance(layer, ResBlock) else layer(x)
        return x


class Down(nn.Module):
    """Stride-2 3×3 conv (key `op`), or AvgPool2d(2) (no parameters) without conv_resample."""

    def __init__(self, ch, use_conv=True):
        super().__init__()
        self.op = nn.Conv2d(ch, ch, 3, stride=2, padding=1) if use_conv else nn.AvgPool2d(2)

    def forward(self, x):
        return self.op(x)


class Up(nn.Module):
    """Nearest ×2, then a 3×3 conv (key `conv`) unless conv_resample is off."""

    def __init__(self, ch, use_conv=True):
        super().__init__()
        if use_conv:
            self.conv = nn.Conv2d(ch, ch, 3, padding=1)
        self.use_conv = use_conv

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv(x) if self.use_conv else x


class Pool2d(nn.Module):
    """pool_factor > 1: patchify with Conv2d(kernel = stride = p); the original wraps it as `down_conv`."""

    def __init__(self, cin, cout, p):
        super().__init__()
        self.down_conv = nn.Conv2d(cin, cout, p, stride=p)

    def forward(self, x):
        return self.down_conv(x)


class UnPool2d(nn.Module):
    """pool_factor > 1: ConvTranspose2d(kernel = stride = p), wrapped as `up_conv` like the original."""

    def __init__(self, cin, cout, p):
        super().__init__()
        self.up_conv = nn.ConvTranspose2d(cin, cout, p, stride=p)

    def forward(self, x):
        return self.up_conv(x)


class EfficientUNet(nn.Module):
    """The original's constructor options (spec 3): `use_linear_attn` (encoder/decoder attention only;
    the middle block is always softmax), `use_scale_shift_norm`, `conv_resample`, `pool_factor`; and
    the project's two (the default model): `use_group_norm=False` (no GroupNorm anywhere),
    `middle_attention=False` (a middle block of two residual blocks).
    Defaults are those of the paper's config, which the benchmarks use — not the original class's
    (`use_linear_attn=True` there). state_dict keys equal the original's."""

    def __init__(self, in_channels, model_channels, out_channels, num_res_blocks, attention_resolutions,
                 channel_mult, dim_head, num_heads, dropout=0.0, conv_resample=True, use_linear_attn=False,
                 use_scale_shift_norm=True, pool_factor=-1, use_group_norm=True, middle_attention=True, **_):
        super().__init__()
        assert dropout == 0.0, "only dropout 0 is re-stated"
        if pool_factor > 1 and pool_factor not in (2, 4, 8):
            raise ValueError(f"pool_factor must be 1, 2, 4 or 8, got {pool_factor}")
        self.model_channels = model_channels
        pooled = pool_factor > 1
        emb = 4 * model_channels

        def res(cin, cout):
            return ResBlock(cin, emb, cout, scale_shift=use_scale_shift_norm, group_norm=use_group_norm)

        def attn(c, linear):
            return SpatialSelfAttention(c, num_heads, dim_head, linear=linear)

        self.time_embed = nn.Sequential(nn.Linear(model_channels, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.pool = Pool2d(in_channels, model_channels, pool_factor) if pooled else nn.Identity()
        ch = model_channels
        self.input_blocks = nn.ModuleList([Seq([nn.Conv2d(model_channels if pooled else in_channels, ch, 3, padding=1)])])
        skips, ds = [ch], 1
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [res(ch, mult * model_channels)]
                ch = mult * model_channels
                if ds in attention_resolutions:
                    layers.append(attn(ch, use_linear_attn))
                self.input_blocks.append(Seq(layers))
                skips.append(ch)
            if level != len(channel_mult) - 1:
                self.input_blocks.append(Seq([Down(ch, conv_resample)]))
                skips.append(ch)
                ds *= 2
        self.middle_block = Seq([res(ch, ch), attn(ch, False), res(ch, ch)] if middle_attention else [res(ch, ch), res(ch, ch)])
        self.output_blocks = nn.ModuleList()
        for level, mult in list(enumerate(channel_mult))[::-1]:
            for i in range(num_res_blocks + 1):
                layers = [res(ch + skips.pop(), model_channels * mult)]
                ch = model_channels * mult
                if ds in attention_resolutions:
                    layers.append(attn(ch, use_linear_attn))
                if level and i == num_res_blocks:
                    layers.append(Up(ch, conv_resample))
                    ds //= 2
                self.output_blocks.append(Seq(layers))
        # GroupNorm over `ch`, conv from model_channels (equal when channel_mult[0] == 1; spec 11.16).
        self.out = nn.Sequential(gn(ch) if use_group_norm else nn.Identity(), nn.SiLU(), nn.Conv2d(model_channels, model_channels if pooled else out_channels, 3, padding=1))
        self.un_pool = UnPool2d(model_channels, out_channels, pool_factor) if pooled else nn.Identity()

    def forward(self, x, t, context=None):
        emb = self.time_embed(timestep_embedding(t.reshape(-1).expand(x.shape[0]), self.model_channels))
        h = torch.cat([x, context], dim=1) if context is not None else x
        h = self.pool(h)
        hs = []
        for block in self.input_blocks:
            h = block(h, emb)
            hs.append(h)
        h = self.middle_block(h, emb)
        for block in self.output_blocks:
            h = block(torch.cat([h, hs.pop()], dim=1), emb)
        return self.un_pool(self.out(h))


PAPER_UNET = dict(in_channels=8, model_channels=128, out_channels=4, num_res_blocks=3, attention_resolutions=[8, 16],
                  channel_mult=[1, 2, 4, 8], dim_head=64, num_heads=4)
CPU_TINY_UNET = dict(in_channels=6, model_channels=32, out_channels=3, num_res_blocks=1, attention_resolutions=[4],
                     channel_mult=[1, 2, 2], dim_head=16, num_heads=2)
# models/default-2x.safetensors: no GroupNorm and no middle attention (958,620 parameters).
DEFAULT_2X_UNET = dict(in_channels=24, model_channels=48, out_channels=12, num_res_blocks=1, attention_resolutions=[],
                       channel_mult=[1, 1, 1], dim_head=32, num_heads=2, use_group_norm=False, middle_attention=False)


# ---- AutoencoderKL (ldm/modules/diffusionmodules/model.py, SD's ddconfig) ------------------------

class ResnetBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1, self.conv1 = gn(cin, 1e-6), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = gn(cout, 1e-6), nn.Conv2d(cout, cout, 3, padding=1)
        self.nin_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.nin_shortcut(x) + h


class AttnBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = gn(c, 1e-6)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(c, c, 1) for _ in range(4))

    def forward(self, x):
        b, c, h, w = x.shape
        n = self.norm(x)
        q = self.q(n).reshape(b, c, h * w).permute(0, 2, 1)
        k = self.k(n).reshape(b, c, h * w)
        attn = torch.softmax(torch.bmm(q, k) * c ** -0.5, dim=2)
        v = self.v(n).reshape(b, c, h * w)
        out = torch.bmm(v, attn.permute(0, 2, 1)).reshape(b, c, h, w)
        return x + self.proj_out(out)


class Middle(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.block_1, self.attn_1, self.block_2 = ResnetBlock(c, c), AttnBlock(c), ResnetBlock(c, c)

    def forward(self, x):
        return self.block_2(self.attn_1(self.block_1(x)))


class Encoder(nn.Module):
    def __init__(self, ch=128, ch_mult=(1, 2, 4, 4), num_res_blocks=2, z=4):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1)
        layers, cin = [], ch
        for level, mult in enumerate(ch_mult):
            for _ in range(num_res_blocks):
                layers.append(ResnetBlock(cin, ch * mult))
                cin = ch * mult
            if level != len(ch_mult) - 1:
                layers.append(nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(cin, cin, 3, stride=2)))
        self.down = nn.Sequential(*layers)
        self.mid = Middle(cin)
        self.norm_out, self.conv_out = gn(cin, 1e-6), nn.Conv2d(cin, 2 * z, 3, padding=1)

    def forward(self, x):
        return self.conv_out(F.silu(self.norm_out(self.mid(self.down(self.conv_in(x))))))


class Decoder(nn.Module):
    def __init__(self, ch=128, ch_mult=(1, 2, 4, 4), num_res_blocks=2, z=4):
        super().__init__()
        cin = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z, cin, 3, padding=1)
        self.mid = Middle(cin)
        layers = []
        for level, mult in list(enumerate(ch_mult))[::-1]:
            for _ in range(num_res_blocks + 1):
                layers.append(ResnetBlock(cin, ch * mult))
                cin = ch * mult
            if level:
                layers.append(Up(cin))
        self.up = nn.Sequential(*layers)
        self.norm_out, self.conv_out = gn(cin, 1e-6), nn.Conv2d(cin, 3, 3, padding=1)

    def forward(self, z):
        return self.conv_out(F.silu(self.norm_out(self.up(self.mid(self.conv_in(z))))))


class AutoencoderKL(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = Encoder(), Decoder()
        self.quant_conv, self.post_quant_conv = nn.Conv2d(8, 8, 1), nn.Conv2d(4, 4, 1)

    def encode(self, x):  # posterior mode (mean), as FMBoost uses it
        return self.quant_conv(self.encoder(x)).chunk(2, dim=1)[0]

    def decode(self, z):
        return self.decoder(self.post_quant_conv(z))


# ---- TAESD family (madebyollin/taesd), TAEF2 variant ---------------------------------------------

class TAEBlock(nn.Module):
    def __init__(self, n_in, n_out, use_midblock_gn=False):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(n_in, n_out, 3, padding=1), nn.ReLU(), nn.Conv2d(n_out, n_out, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(n_out, n_out, 3, padding=1))
        self.skip = nn.Conv2d(n_in, n_out, 1, bias=False) if n_in != n_out else nn.Identity()
        self.pool = (nn.Sequential(nn.Conv2d(n_in, n_in * 4, 1, bias=False), nn.GroupNorm(4, n_in * 4), nn.ReLU(),
                                   nn.Conv2d(n_in * 4, n_in, 1, bias=False)) if use_midblock_gn else None)

    def forward(self, x):
        if self.pool is not None:
            x = x + self.pool(x)
        return F.relu(self.conv(x) + self.skip(x))


class Clamp(nn.Module):
    def forward(self, x):
        return torch.tanh(x / 3) * 3


def tae_encoder(latent_channels=32, gn=True):
    def conv(n_in, n_out, **kw):
        return nn.Conv2d(n_in, n_out, 3, padding=1, **kw)
    return nn.Sequential(conv(3, 64), TAEBlock(64, 64),
                         conv(64, 64, stride=2, bias=False), TAEBlock(64, 64), TAEBlock(64, 64), TAEBlock(64, 64),
                         conv(64, 64, stride=2, bias=False), TAEBlock(64, 64), TAEBlock(64, 64), TAEBlock(64, 64),
                         conv(64, 64, stride=2, bias=False), TAEBlock(64, 64, gn), TAEBlock(64, 64, gn), TAEBlock(64, 64, gn),
                         conv(64, latent_channels))


def tae_decoder(latent_channels=32, gn=True):
    def conv(n_in, n_out, **kw):
        return nn.Conv2d(n_in, n_out, 3, padding=1, **kw)
    return nn.Sequential(Clamp(), conv(latent_channels, 64), nn.ReLU(),
                         TAEBlock(64, 64, gn), TAEBlock(64, 64, gn), TAEBlock(64, 64, gn), nn.Upsample(scale_factor=2), conv(64, 64, bias=False),
                         TAEBlock(64, 64), TAEBlock(64, 64), TAEBlock(64, 64), nn.Upsample(scale_factor=2), conv(64, 64, bias=False),
                         TAEBlock(64, 64), TAEBlock(64, 64), TAEBlock(64, 64), nn.Upsample(scale_factor=2), conv(64, 64, bias=False),
                         TAEBlock(64, 64), conv(64, 3))


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())
