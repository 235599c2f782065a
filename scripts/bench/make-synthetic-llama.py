#!/usr/bin/env python3
"""Writes a synthetic Llama-shaped checkpoint (Hugging Face names, sharded safetensors with an
index and a config.json) for conversion benchmarks. Shapes: hidden 2048, 14 layers, 32 heads,
4 KV heads, FFN 5632, vocabulary 32000, untied head: 747 M parameters, 2.99 GB in F32 and
1.49 GB in F16. Values: N(0, 0.02) from a fixed seed, so every run writes the same bytes.

    python make-synthetic-llama.py OUT_DIR {f32|f16}
"""
import json, os, sys
import numpy as np
from safetensors.numpy import save_file

out, dtype = sys.argv[1], sys.argv[2]
np_dtype = {"f32": np.float32, "f16": np.float16}[dtype]
H, L, FFN, V, KV = 2048, 14, 5632, 32000, 256
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261129)

def t(*shape):
    return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np_dtype)

shards = [{"model.embed_tokens.weight": t(V, H)}]
for i in range(L):
    p = f"model.layers.{i}."
    layer = {
        p + "input_layernorm.weight": np.ones(H, np_dtype),
        p + "post_attention_layernorm.weight": np.ones(H, np_dtype),
        p + "self_attn.q_proj.weight": t(H, H), p + "self_attn.k_proj.weight": t(KV, H),
        p + "self_attn.v_proj.weight": t(KV, H), p + "self_attn.o_proj.weight": t(H, H),
        p + "mlp.gate_proj.weight": t(FFN, H), p + "mlp.up_proj.weight": t(FFN, H), p + "mlp.down_proj.weight": t(H, FFN),
    }
    if i % 4 == 0:
        shards.append({})
    shards[-1].update(layer)
shards[-1].update({"model.norm.weight": np.ones(H, np_dtype), "lm_head.weight": t(V, H)})

weight_map, total = {}, 0
for n, tensors in enumerate(shards):
    name = f"model-{n + 1:05d}-of-{len(shards):05d}.safetensors"
    save_file(tensors, os.path.join(out, name), metadata={"format": "pt"})
    for k, v in tensors.items():
        weight_map[k] = name
        total += v.nbytes
with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump({"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": H, "num_hidden_layers": L,
               "num_attention_heads": 32, "num_key_value_heads": 4, "intermediate_size": FFN, "vocab_size": V,
               "max_position_embeddings": 4096, "rms_norm_eps": 1e-5}, f, indent=2)
print(f"{out}: {sum(v.size for s in shards for v in s.values())} parameters, {total} bytes")
