#!/usr/bin/env python3
"""Sentence embeddings of all-MiniLM-L6-v2 computed independently of qpack: numpy over the
safetensors weights (PyPI safetensors reader), token ids from the PyPI tokenizers package,
BERT encoder + mean pooling + L2 normalisation as sentence-transformers does. float64.

    python minilm_reference.py MODELS_DIR SENTENCES_TXT OUTPUT_JSON
"""
import os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread: the same sums every run
os.environ.setdefault("OMP_NUM_THREADS", "1")
import json, math, sys
import numpy as np
from safetensors.numpy import load_file
from tokenizers import BertWordPieceTokenizer

models_dir, sentences_path, output = sys.argv[1:4]
d = os.path.join(models_dir, "all-MiniLM-L6-v2")
w = {k: v.astype(np.float64) for k, v in load_file(os.path.join(d, "model.safetensors")).items()}
cfg = json.load(open(os.path.join(d, "config.json")))
tok = BertWordPieceTokenizer(os.path.join(d, "vocab.txt"), lowercase=True)
H, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]

def ln(x, g, b):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g + b

erf = np.vectorize(math.erf)

def embed(ids):
    n = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n] \
        + w["embeddings.token_type_embeddings.weight"][0]
    x = ln(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda t, name: t @ w[p + name + ".weight"].T + w[p + name + ".bias"]
        q, k, v = lin(x, "attention.self.query"), lin(x, "attention.self.key"), lin(x, "attention.self.value")
        hd = H // heads
        ctx = np.zeros_like(x)
        for h in range(heads):
            s = slice(h * hd, (h + 1) * hd)
            a = q[:, s] @ k[:, s].T / math.sqrt(hd)
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            ctx[:, s] = a @ v[:, s]
        x = ln(x + lin(ctx, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        hmid = lin(x, "intermediate.dense")
        hmid = 0.5 * hmid * (1 + erf(hmid / math.sqrt(2)))
        x = ln(x + lin(hmid, "output.dense"), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    e = x.mean(0)
    return e / max(np.linalg.norm(e), 1e-12)

sentences = [s for s in open(sentences_path, encoding="utf-8").read().split("\n") if s]
doc = {"source": "numpy float64 BERT over the safetensors weights; ids from tokenizers 0.22.1", "sentences": []}
for s in sentences:
    ids = tok.encode(s).ids
    doc["sentences"].append({"text": s, "ids": ids, "embedding": [float(f"{v:.9g}") for v in embed(ids)]})
with open(output, "w", encoding="utf-8") as f:
    json.dump(doc, f, indent=1, ensure_ascii=False)
    f.write("\n")
