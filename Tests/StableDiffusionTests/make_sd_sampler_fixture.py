"""Scheduler trajectories and seeded noise that golden-sd lacks, from diffusers and torch (PyPI).

Writes Tests/Fixtures/sd_samplers.safetensors (float32 unless noted; config in the metadata):
  randn.<seed>.<shape>     torch.manual_seed(seed); torch.randn(shape) on the CPU, for the seeds
                           and shapes below (sizes under 16 take torch's scalar path, the rest its
                           vectorised one)
  <case>.timesteps, .sigmas (float64), .init_noise_sigma (float64 [1]), .x_T,
  <case>.step<i>.model_input, .eps, .prev_sample, and .noise for the ancestral sampler's draws,
  for the cases
    euler_a          EulerAncestralDiscreteScheduler, 8 steps, SD1.5 config (leading, offset 1)
    euler_karras     EulerDiscreteScheduler use_karras_sigmas=True, 8 steps
    dpmpp_karras     DPMSolverMultistepScheduler (dpmsolver++, order 2, midpoint) use_karras_sigmas=True, 8 steps
    dpmpp_trailing   DPMSolverMultistepScheduler, timestep_spacing trailing, 6 steps
  with a synthetic network eps(x, t) = 0.5·sin(x) + 0.3·(t/1000)·x (no weights needed: the
  schedulers' arithmetic is what is tested).

Run: python3 -m venv v && v/bin/pip install torch diffusers safetensors && v/bin/python Tests/StableDiffusionTests/make_sd_sampler_fixture.py
"""
import json
import os
import torch
import diffusers
from diffusers import DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler, EulerDiscreteScheduler
from safetensors.torch import save_file

SD15 = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
            steps_offset=1, timestep_spacing="leading", prediction_type="epsilon")
SEEDS = [(0, [1, 4, 64, 64]), (42, [2, 4, 16, 24]), (2024, [7]), (303, [1, 4, 16, 16]), (4294967301, [1, 4, 8, 8])]


def eps_fn(x, t):
    return 0.5 * torch.sin(x) + 0.3 * (float(t) / 1000.0) * x


def trajectory(name, scheduler, steps, out, seed):
    scheduler.set_timesteps(steps)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn([1, 4, 8, 8], generator=torch.Generator().manual_seed(seed + 1)) * scheduler.init_noise_sigma
    out[f"{name}.x_T"] = x.clone()
    out[f"{name}.timesteps"] = scheduler.timesteps.to(torch.float64)
    if hasattr(scheduler, "sigmas"):
        out[f"{name}.sigmas"] = torch.as_tensor(scheduler.sigmas).to(torch.float64)
    out[f"{name}.init_noise_sigma"] = torch.tensor([float(scheduler.init_noise_sigma)], dtype=torch.float64)
    for i, t in enumerate(scheduler.timesteps):
        model_input = scheduler.scale_model_input(x, t)
        eps = eps_fn(model_input, t)
        state = g.get_state()
        noise = torch.randn(x.shape, generator=torch.Generator().set_state(state))
        x = scheduler.step(eps, t, x, generator=g).prev_sample
        out[f"{name}.step{i}.model_input"] = model_input
        out[f"{name}.step{i}.eps"] = eps
        out[f"{name}.step{i}.noise"] = noise
        out[f"{name}.step{i}.prev_sample"] = x.clone()


def main():
    out = {}
    for seed, shape in SEEDS:
        torch.manual_seed(seed)
        out[f"randn.{seed}.{'x'.join(map(str, shape))}"] = torch.randn(shape)
    trajectory("euler_a", EulerAncestralDiscreteScheduler(**SD15), 8, out, 11)
    trajectory("euler_karras", EulerDiscreteScheduler(**SD15, use_karras_sigmas=True), 8, out, 12)
    trajectory("dpmpp_karras", DPMSolverMultistepScheduler(**SD15, use_karras_sigmas=True), 8, out, 13)
    trailing = dict(SD15, timestep_spacing="trailing")
    trajectory("dpmpp_trailing", DPMSolverMultistepScheduler(**trailing), 6, out, 14)
    meta = {"versions": json.dumps({"torch": torch.__version__, "diffusers": diffusers.__version__}),
            "eps": "0.5*sin(x) + 0.3*(t/1000)*x", "seeds": json.dumps(SEEDS)}
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../Fixtures/sd_samplers.safetensors"), metadata=meta)


if __name__ == "__main__":
    main()
