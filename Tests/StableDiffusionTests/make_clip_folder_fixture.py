"""A text_encoder/ folder as transformers itself saves it, for CLIPTextModelTests.

A small random CLIPTextModel (vocab 1000, width 32, 2 layers, 4 heads, 77 positions, quick_gelu)
saved with `save_pretrained` (config.json + model.safetensors, transformers 5 key names) into
Tests/Fixtures/clip_text_folder/, and Tests/Fixtures/clip_text_folder.io.safetensors with
input_ids (2, 77) -> last_hidden_state and hidden_states.1 (the penultimate layer, before the
final LayerNorm) from the same model.

Run: v/bin/pip install torch transformers safetensors && v/bin/python Tests/StableDiffusionTests/make_clip_folder_fixture.py
"""
import json, os, shutil
import torch, transformers
from transformers import CLIPTextConfig, CLIPTextModel
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../Fixtures")
torch.manual_seed(11)
config = CLIPTextConfig(vocab_size=1000, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                        max_position_embeddings=77, hidden_act="quick_gelu", bos_token_id=998, eos_token_id=999, pad_token_id=999)
model = CLIPTextModel(config).eval()
folder = f"{OUT}/clip_text_folder"
shutil.rmtree(folder, ignore_errors=True)
model.save_pretrained(folder, safe_serialization=True)
ids = torch.full((2, 77), 999, dtype=torch.long)
ids[:, 0] = 998
ids[0, 1:6] = torch.tensor([5, 17, 300, 42, 999])
ids[1, 1:30] = torch.randint(0, 998, (29,))
with torch.no_grad():
    out = model(ids, output_hidden_states=True)
save_file({"input_ids": ids, "last_hidden_state": out.last_hidden_state.contiguous(), "hidden_states.1": out.hidden_states[1].contiguous()},
          f"{OUT}/clip_text_folder.io.safetensors",
          metadata={"versions": json.dumps({"torch": torch.__version__, "transformers": transformers.__version__})})
print(sorted(os.listdir(folder)))
