#!/usr/bin/env python3
"""SmolLM2-135M-Instruct next-token logits computed independently of qpack: numpy (float64)
over the weights gguf-py dequantizes from the GGUF file, token ids from the PyPI tokenizers
package (the BPE set up as in Fixtures/tokenizers). Llama graph as llama.cpp runs this file:
RMSNorm, rotary embeddings on adjacent pairs (GGUF's "norm" rope), grouped-query attention,
SwiGLU, output head tied to the token embeddings.

    python smollm2_reference.py MODELS_DIR OUT_JSON OUT_LOGITS_F32
"""
import os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import json, sys
import numpy as np
import gguf
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

models_dir, out_json, out_logits = sys.argv[1:4]
r = gguf.GGUFReader(os.path.join(models_dir, "SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"))
def scalar(k):
    f = r.fields[k]
    return f.parts[f.data[0]].tolist()[0]
def strings(k):
    f = r.fields[k]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
W = {t.name: gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64) for t in r.tensors}
L, H, heads, kv = scalar("llama.block_count"), scalar("llama.embedding_length"), scalar("llama.attention.head_count"), scalar("llama.attention.head_count_kv")
eps, base = scalar("llama.attention.layer_norm_rms_epsilon"), scalar("llama.rope.freq_base")
hd = H // heads
tokens, merges = strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges")
bpe = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=[tuple(m.split(" ", 1)) for m in merges]))
bpe.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
bpe.decoder = decoders.ByteLevel()

def rms(x, w):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

def rope(x, n):  # x: [n, heads, hd], adjacent pairs rotate by pos * base^(-2i/hd)
    inv = base ** (-np.arange(0, hd, 2) / hd)
    ang = np.arange(n)[:, None] * inv[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = x0 * c - x1 * s
    out[..., 1::2] = x0 * s + x1 * c
    return out

def forward(ids):
    n = len(ids)
    E = W["token_embd.weight"]
    x = E[ids]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for i in range(L):
        p = f"blk.{i}."
        h = rms(x, W[p + "attn_norm.weight"])
        q = rope((h @ W[p + "attn_q.weight"].T).reshape(n, heads, hd), n)
        k = rope((h @ W[p + "attn_k.weight"].T).reshape(n, kv, hd), n)
        v = (h @ W[p + "attn_v.weight"].T).reshape(n, kv, hd)
        out = np.zeros((n, heads, hd))
        for hh in range(heads):
            g = hh // (heads // kv)
            a = q[:, hh] @ k[:, g].T / np.sqrt(hd) + mask
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            out[:, hh] = a @ v[:, g]
        x = x + out.reshape(n, H) @ W[p + "attn_output.weight"].T
        h = rms(x, W[p + "ffn_norm.weight"])
        gate, up = h @ W[p + "ffn_gate.weight"].T, h @ W[p + "ffn_up.weight"].T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ W[p + "ffn_down.weight"].T
    return rms(x, W["output_norm.weight"]) @ E.T

prompt = "The capital of France is"
ids = bpe.encode(prompt).ids
logits = forward(ids)
continuation = list(ids)
for _ in range(3):
    continuation.append(int(forward(continuation)[-1].argmax()))
generated = continuation[len(ids):]
np.asarray(logits[-1], dtype="<f4").tofile(out_logits)
with open(out_json, "w", encoding="utf-8") as f:
    json.dump({"source": "numpy float64 Llama over gguf-py dequantized weights; ids from tokenizers 0.22.1",
               "prompt": prompt, "ids": ids, "greedy": generated, "greedy_text": bpe.decode(generated),
               "top5": [int(i) for i in np.argsort(-logits[-1])[:5]]}, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(bpe.decode(generated), ids, generated)
