"""A LoRA in the diffusers/peft layout, saved by diffusers itself, for LoRATests.

The tiny SD UNet of golden-sd (LDM keys, converted with diffusers' convert_ldm_unet_checkpoint)
gets a peft LoRA (rank 4, on to_q, to_k, to_v, to_out.0, proj_in and ff.net.2) with seeded random
A and B; `StableDiffusionPipeline.save_lora_weights` writes it (no alpha in the file: diffusers
reads such a file with alpha = rank). The reference loads that file into a fresh UNet with
diffusers' `load_lora_adapter` and fuses it.
Writes Tests/Fixtures/lora_peft.safetensors (the file diffusers wrote, as it wrote it) and
Tests/Fixtures/lora_peft.io.safetensors: x, t, context of golden-sd/lora_tiny.io, and
eps_merged = the UNet with the LoRA fused at lora_scale 0.7 (diffusers' fuse_lora).

Run: v/bin/pip install torch diffusers peft safetensors && v/bin/python Tests/StableDiffusionTests/make_peft_lora_fixture.py
"""
import json, os, shutil, tempfile
import torch
import diffusers, peft
from diffusers import StableDiffusionPipeline, UNet2DConditionModel
from diffusers.loaders.single_file_utils import convert_ldm_unet_checkpoint
from peft import LoraConfig, get_peft_model_state_dict
from safetensors import safe_open
from safetensors.torch import load_file, save_file

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/golden-sd")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../Fixtures")

with safe_open(f"{GOLDEN}/sd_unet_tiny.ldm.safetensors", "pt") as f:
    config = json.loads(f.metadata()["config"])["diffusers"]
ldm = {k: v.float() for k, v in load_file(f"{GOLDEN}/sd_unet_tiny.ldm.safetensors").items()}
def tiny_unet():
    unet = UNet2DConditionModel(**{k: v for k, v in config.items() if not k.startswith("_")})
    unet.load_state_dict(convert_ldm_unet_checkpoint(ldm, unet.config))
    return unet.eval()
unet = tiny_unet()
unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights=False,
                            target_modules=["to_q", "to_k", "to_v", "to_out.0", "proj_in", "ff.net.2"]))
g = torch.Generator().manual_seed(7)
with torch.no_grad():
    for name, p in unet.named_parameters():
        if "lora_" in name:
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
tmp = tempfile.mkdtemp()
StableDiffusionPipeline.save_lora_weights(tmp, unet_lora_layers=get_peft_model_state_dict(unet), safe_serialization=True)
shutil.copy(f"{tmp}/pytorch_lora_weights.safetensors", f"{OUT}/lora_peft.safetensors")
io = load_file(f"{GOLDEN}/lora_tiny.io.safetensors")
unet = tiny_unet()
unet.load_lora_adapter(f"{OUT}/lora_peft.safetensors", prefix="unet", adapter_name="peft")
unet.fuse_lora(lora_scale=0.7)
with torch.no_grad():
    eps = unet(io["x"], io["t"], encoder_hidden_states=io["context"]).sample
save_file({"x": io["x"], "t": io["t"], "context": io["context"], "eps_merged": eps.contiguous()}, f"{OUT}/lora_peft.io.safetensors",
          metadata={"versions": json.dumps({"torch": torch.__version__, "diffusers": diffusers.__version__, "peft": peft.__version__}),
                    "what": "lora_peft.safetensors loaded by diffusers load_lora_adapter, fused at lora_scale 0.7 on golden-sd/sd_unet_tiny"})
print(sorted(load_file(f"{OUT}/lora_peft.safetensors"))[:4], len(load_file(f"{OUT}/lora_peft.safetensors")))
