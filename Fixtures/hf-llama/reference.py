#!/usr/bin/env python3
"""Next-token logits of a Hugging Face Llama checkpoint computed independently of qpack:
numpy (float64) over the safetensors weights, token ids from the tokenizers package reading the
checkpoint's tokenizer.json. The graph is transformers' LlamaForCausalLM: RMSNorm, rotary
embeddings with rotate_half (the two halves of a head pair up), inverse frequencies from
config.json's rope_theta and rope_scaling (default, linear, llama3 as transformers'
rope utilities define them), grouped-query attention, SwiGLU, tied or separate head.

    python reference.py CHECKPOINT_DIR OUT_JSON OUT_LOGITS_F32

OUT_LOGITS_F32 holds every position's logits for the prompt, then the last position's logits
for a longer passage (where rope scaling moves the logits well beyond rounding).
"""
import os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import json, math, sys
import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

d, out_json, out_logits = sys.argv[1:4]
cfg = json.load(open(os.path.join(d, "config.json")))
W = {k: v.astype(np.float64) for k, v in load_file(os.path.join(d, "model.safetensors")).items()}
tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
H, heads = cfg["hidden_size"], cfg["num_attention_heads"]
kv, L, eps = cfg.get("num_key_value_heads", heads), cfg["num_hidden_layers"], cfg["rms_norm_eps"]
hd = H // heads

def inverse_frequencies():
    inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (np.arange(0, hd, 2) / hd))
    s = cfg.get("rope_scaling") or {}
    kind = s.get("rope_type", s.get("type", "default"))
    if kind == "linear":
        return inv / s["factor"]
    if kind == "llama3":
        old, lo, hi, factor = s["original_max_position_embeddings"], s["low_freq_factor"], s["high_freq_factor"], s["factor"]
        wavelen = 2 * math.pi / inv
        scaled = np.where(wavelen > old / lo, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        medium = (wavelen <= old / lo) & (wavelen >= old / hi)
        return np.where(medium, (1 - smooth) * inv / factor + smooth * inv, scaled)
    assert kind == "default", kind
    return inv

INV = inverse_frequencies()

def rms(x, w):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

def rope(x, n):  # x: [n, heads, hd]; rotate_half pairs x[i] with x[i + hd/2]
    ang = np.arange(n)[:, None] * INV[None, :]
    c = np.concatenate([np.cos(ang)] * 2, -1)[:, None, :]
    s = np.concatenate([np.sin(ang)] * 2, -1)[:, None, :]
    half = np.concatenate([-x[..., hd // 2:], x[..., :hd // 2]], -1)
    return x * c + half * s

def forward(ids):
    n = len(ids)
    E = W["model.embed_tokens.weight"]
    head = E if cfg.get("tie_word_embeddings") or "lm_head.weight" not in W else W["lm_head.weight"]
    x = E[ids]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for i in range(L):
        p = f"model.layers.{i}."
        h = rms(x, W[p + "input_layernorm.weight"])
        q = rope((h @ W[p + "self_attn.q_proj.weight"].T).reshape(n, heads, hd), n)
        k = rope((h @ W[p + "self_attn.k_proj.weight"].T).reshape(n, kv, hd), n)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).reshape(n, kv, hd)
        out = np.zeros((n, heads, hd))
        for hh in range(heads):
            g = hh // (heads // kv)
            a = q[:, hh] @ k[:, g].T / np.sqrt(hd) + mask
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            out[:, hh] = a @ v[:, g]
        x = x + out.reshape(n, H) @ W[p + "self_attn.o_proj.weight"].T
        h = rms(x, W[p + "post_attention_layernorm.weight"])
        gate, up = h @ W[p + "mlp.gate_proj.weight"].T, h @ W[p + "mlp.up_proj.weight"].T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ W[p + "mlp.down_proj.weight"].T
    return rms(x, W["model.norm.weight"]) @ head.T

prompt = "The capital of France is"
ids = tok.encode(prompt, add_special_tokens=False).ids
logits = forward(ids)
seq = list(ids)
for _ in range(3):
    seq.append(int(forward(seq)[-1].argmax()))
generated = seq[len(ids):]
passage = ("In 1889, the Eiffel Tower was completed in Paris for the World's Fair; at 330 metres it remained the "
           "tallest man-made structure in the world for 41 years, until the Chrysler Building in New York City surpassed it in 1930.")
passage_ids = tok.encode(passage, add_special_tokens=False).ids
np.concatenate([logits.reshape(-1), forward(passage_ids)[-1]]).astype("<f4").tofile(out_logits)
with open(out_json, "w", encoding="utf-8") as f:
    json.dump({"source": "numpy float64 transformers-style Llama over the safetensors weights; ids from tokenizers",
               "prompt": prompt, "ids": ids, "passage": passage, "passage_ids": passage_ids, "greedy": generated, "greedy_text": tok.decode(generated),
               "rope_scaling": cfg.get("rope_scaling"), "inverse_frequencies": INV.tolist()}, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"reference: {d}: {tok.decode(generated)!r} ids {ids} greedy {generated}")
