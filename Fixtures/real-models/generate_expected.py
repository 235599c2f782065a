#!/usr/bin/env python3
"""Facts about the two real checkpoints, read by the reference readers (PyPI safetensors and
gguf-py) and numpy, for qpack's tests to compare against. Needs the models fetched by
scripts/fetch-models.sh.

    python generate_expected.py MODELS_DIR OUTPUT_JSON
"""
import json
import struct
import sys

import numpy as np
import gguf
from safetensors import safe_open

MULT = np.uint64(0x9E3779B97F4A7C15)


def weighted_checksum(values):
    """Σ (bits[i] + 1) * (((i + 1) * 0x9E3779B97F4A7C15) | 1) mod 2^64, as QPackBinary.WeightedChecksum."""
    bits = np.ascontiguousarray(values, dtype=np.float32).ravel().view(np.uint32).astype(np.uint64)
    i = np.arange(1, bits.size + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        w = (i * MULT) | np.uint64(1)
        return int(np.sum((bits + np.uint64(1)) * w, dtype=np.uint64))


def stats(v):
    v = np.asarray(v, dtype=np.float64).ravel()
    return {"count": int(v.size), "min": float(v.min()), "max": float(v.max()), "mean": float(v.mean()),
            "std": float(v.std()), "absmax": float(np.abs(v).max()), "zeros": int((v == 0).sum())}


def minilm(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    out = {"file": "all-MiniLM-L6-v2/model.safetensors", "header_size": n, "metadata": header.pop("__metadata__", {}), "tensors": {}}
    with safe_open(path, framework="numpy") as st:
        names = list(st.keys())
        for name in names:
            e = header[name]
            out["tensors"][name] = {"dtype": e["dtype"], "shape": e["shape"], "data_offsets": e["data_offsets"]}
        out["tensor_count"] = len(names)
        out["stats"] = {name: stats(st.get_tensor(name)) for name in
                        ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight",
                         "embeddings.LayerNorm.weight")}
        out["checksums"] = {name: weighted_checksum(st.get_tensor(name).astype(np.float32)) for name in names}
    return out


def smollm(path):
    r = gguf.GGUFReader(path)
    def scalar(key):
        f = r.fields[key]
        v = f.parts[f.data[0]]
        return bytes(v).decode() if f.types[0] == gguf.GGUFValueType.STRING else v.tolist()[0]
    out = {"file": "SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf", "version": scalar("GGUF.version"),
           "tensor_count": len(r.tensors), "kv_count": len(r.fields) - 3,
           "architecture": scalar("general.architecture"), "block_count": scalar("llama.block_count"),
           "embedding_length": scalar("llama.embedding_length"),
           "tokens": len(r.fields["tokenizer.ggml.tokens"].data), "merges": len(r.fields["tokenizer.ggml.merges"].data),
           "tensors": {}}
    for t in r.tensors:
        values = gguf.quants.dequantize(t.data, t.tensor_type)
        out["tensors"][t.name] = {"type": t.tensor_type.name, "shape": [int(x) for x in t.shape],
                                  "offset": int(t.data_offset), "bytes": int(t.n_bytes),
                                  "checksum": weighted_checksum(values)}
    out["stats"] = {"blk.0.attn_q.weight": stats(gguf.quants.dequantize(
        next(t for t in r.tensors if t.name == "blk.0.attn_q.weight").data, gguf.GGMLQuantizationType.Q4_1))}
    return out


def main():
    models, output = sys.argv[1], sys.argv[2]
    doc = {"source": "PyPI safetensors 0.8.0 and gguf 0.19.0 readers, gguf.quants.dequantize, numpy",
           "minilm": minilm(f"{models}/all-MiniLM-L6-v2/model.safetensors"),
           "smollm2": smollm(f"{models}/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")}
    with open(output, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
