#!/usr/bin/env python3
"""Generates qpack's reader fixtures with external writers and reference decoders.

Valid files are written by the PyPI `safetensors` and `gguf` packages; the values qpack must
decode them to are computed here by numpy and by gguf-py's own `dequantize`, never by qpack.
Malformed files are valid files with one documented mutation each (the IDs are rows of the
bad-input checklist), listed with the error qpack must report in malformed/expected.json.

Run through scripts/generate-fixtures.sh (it uses the pinned venv). Deterministic: a fixed
seed and no timestamps, so regenerating reproduces the committed bytes exactly.

    python generate.py OUTPUT_DIR
"""
import json
import os
import shutil
import struct
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType as V
from safetensors import TensorSpec, serialize

SEED = 20261129


def st_bytes(tensors, metadata=None):
    """safetensors bytes for {name: (dtype_name, shape, raw_bytes)} via the reference writer."""
    keep = []
    specs = {}
    for name, (dtype, shape, raw) in tensors.items():
        buf = np.frombuffer(raw, dtype=np.uint8).copy() if len(raw) else np.zeros(1, np.uint8)
        keep.append(buf)
        specs[name] = TensorSpec(dtype=dtype, shape=list(shape), data_ptr=buf.ctypes.data, data_len=len(raw))
    return serialize(specs, metadata=metadata)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def f32_bits(a):
    return [int(x) for x in np.asarray(a, dtype=np.float32).view(np.uint32).ravel()]


# --------------------------------------------------------------------------------------------
# safetensors: every dtype, with the float32 values numpy converts each element to
# --------------------------------------------------------------------------------------------

def safetensors_dtypes(out, rng):
    f64 = np.concatenate([
        rng.standard_normal(20),
        [1 / 3, 0.1, 1e300, -1e300, -1e-50, 0.0, -0.0, np.inf, -np.inf, np.nan,
         1 + 2.0**-24, 1 + 3 * 2.0**-24, 3.4028235677973366e38, 1.4e-45, 7e-46, 2.0**-149 * 1.5],
    ]).astype(np.float64)
    f32 = np.concatenate([rng.standard_normal(20), [np.nan, np.inf, -np.inf, -0.0, 1e-40, 3.4e38]]).astype(np.float32)
    f16_bits = np.concatenate([
        rng.integers(0, 0x7C00, 16), rng.integers(0x8000, 0xFC00, 8),
        [0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x3C00, 0x8001],
    ]).astype(np.uint16)
    bf16_bits = np.concatenate([
        rng.integers(0, 0x7F80, 16), rng.integers(0x8000, 0xFF80, 8),
        [0x0000, 0x8000, 0x0001, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0x3F80, 0x0080],
    ]).astype(np.uint16)
    i64 = np.array([0, 1, -1, 2**53 + 1, -(2**63), 2**63 - 1, 123456789012345, -42], dtype=np.int64)
    i32 = np.array([0, 1, -1, 2**31 - 1, -(2**31), 16777217, 7], dtype=np.int32)
    i16 = np.array([0, 1, -1, 32767, -32768, 300], dtype=np.int16)
    i8 = np.array([0, 1, -1, 127, -128, 5], dtype=np.int8)
    u8 = np.array([0, 1, 255, 128, 7], dtype=np.uint8)
    boolean = np.array([True, False, True, True], dtype=np.bool_)

    tensors = {
        "t.f64": ("float64", (2, len(f64) // 2), f64.tobytes()),
        "t.f32": ("float32", (len(f32),), f32.tobytes()),
        "t.f16": ("float16", (4, len(f16_bits) // 4), f16_bits.tobytes()),
        "t.bf16": ("bfloat16", (len(bf16_bits),), bf16_bits.tobytes()),
        "t.i64": ("int64", (len(i64),), i64.tobytes()),
        "t.i32": ("int32", (len(i32),), i32.tobytes()),
        "t.i16": ("int16", (len(i16),), i16.tobytes()),
        "t.i8": ("int8", (len(i8),), i8.tobytes()),
        "t.u8": ("uint8", (len(u8),), u8.tobytes()),
        "t.bool": ("bool", (len(boolean),), boolean.tobytes()),
        "t.empty": ("float32", (2, 0), b""),
        "t.scalar": ("float32", (), np.array([2.5], np.float32).tobytes()),
    }
    write(f"{out}/safetensors/dtypes.safetensors", st_bytes(tensors, metadata={"format": "np"}))  # one key: the writer orders metadata by a randomly seeded hash map

    expected = {
        "t.f64": ("F64", f64.astype(np.float32)),
        "t.f32": ("F32", f32),
        "t.f16": ("F16", f16_bits.view(np.float16).astype(np.float32)),
        "t.bf16": ("BF16", (bf16_bits.astype(np.uint32) << 16).view(np.float32)),
        "t.i64": ("I64", i64.astype(np.float32)),
        "t.i32": ("I32", i32.astype(np.float32)),
        "t.i16": ("I16", i16.astype(np.float32)),
        "t.i8": ("I8", i8.astype(np.float32)),
        "t.u8": ("U8", u8.astype(np.float32)),
        "t.bool": ("BOOL", boolean.astype(np.float32)),
        "t.empty": ("F32", np.zeros(0, np.float32)),
        "t.scalar": ("F32", np.array([2.5], np.float32)),
    }
    shapes = {k: list(v[1]) for k, v in tensors.items()}
    doc = {
        "source": "written by safetensors (PyPI) serialize(); values converted to float32 by numpy",
        "tensors": {k: {"dtype": d, "shape": shapes[k], "f32_bits": f32_bits(v)} for k, (d, v) in expected.items()},
        "metadata": {"format": "np"},
    }
    write(f"{out}/safetensors/dtypes.expected.json", (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())


def safetensors_sharded(out, rng):
    d = f"{out}/safetensors/sharded"
    a = rng.standard_normal((4, 8)).astype(np.float32)
    b = rng.standard_normal((8,)).astype(np.float16)
    c = rng.standard_normal((3, 5)).astype(np.float32)
    write(f"{d}/model-00001-of-00002.safetensors", st_bytes({
        "layer.0.weight": ("float32", a.shape, a.tobytes()),
        "layer.0.bias": ("float16", b.shape, b.tobytes()),
    }))
    write(f"{d}/model-00002-of-00002.safetensors", st_bytes({"layer.1.weight": ("float32", c.shape, c.tobytes())}))
    index = {
        "metadata": {"total_size": a.nbytes + b.nbytes + c.nbytes},
        "weight_map": {
            "layer.0.bias": "model-00001-of-00002.safetensors",
            "layer.0.weight": "model-00001-of-00002.safetensors",
            "layer.1.weight": "model-00002-of-00002.safetensors",
        },
    }
    write(f"{d}/model.safetensors.index.json", (json.dumps(index, indent=2) + "\n").encode())
    return index


# --------------------------------------------------------------------------------------------
# Architectures: checkpoints qpack must refuse (or convert only when told), tiny and well formed
# --------------------------------------------------------------------------------------------

def architectures(out, rng):
    d = f"{out}/architectures"
    os.makedirs(d, exist_ok=True)
    hidden, ffn, vocab = 32, 64, 16

    def mat(n, k):
        return rng.standard_normal((n, k)).astype(np.float32)

    # A Gemma 3 GGUF: Llama-like names plus the q/k norms and post-norms Llama lacks.
    w = gguf.GGUFWriter(f"{d}/gemma3.gguf", "gemma3")
    w.add_block_count(1)
    w.add_embedding_length(hidden)
    w.add_head_count(2)
    w.add_context_length(64)
    w.add_tensor("token_embd.weight", mat(vocab, hidden))
    for name, shape in [("attn_q", (hidden, hidden)), ("attn_k", (hidden, hidden)), ("attn_v", (hidden, hidden)),
                        ("attn_output", (hidden, hidden)), ("ffn_gate", (ffn, hidden)), ("ffn_up", (ffn, hidden)),
                        ("ffn_down", (hidden, ffn))]:
        w.add_tensor(f"blk.0.{name}.weight", mat(*shape))
    for name, n in [("attn_norm", hidden), ("attn_q_norm", 16), ("attn_k_norm", 16), ("post_attention_norm", hidden),
                    ("ffn_norm", hidden), ("post_ffw_norm", hidden)]:
        w.add_tensor(f"blk.0.{name}.weight", np.ones(n, np.float32))
    w.add_tensor("output_norm.weight", np.ones(hidden, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    # A Qwen2 Hugging Face directory: Llama's names and q/k/v biases, labelled qwen2.
    t = {"model.embed_tokens.weight": mat(vocab, hidden), "model.norm.weight": np.ones(hidden, np.float32)}
    p = "model.layers.0."
    for name, shape in [("self_attn.q_proj", (hidden, hidden)), ("self_attn.k_proj", (hidden, hidden)),
                        ("self_attn.v_proj", (hidden, hidden)), ("self_attn.o_proj", (hidden, hidden)),
                        ("mlp.gate_proj", (ffn, hidden)), ("mlp.up_proj", (ffn, hidden)), ("mlp.down_proj", (hidden, ffn))]:
        t[p + name + ".weight"] = mat(*shape)
    for name in ("q_proj", "k_proj", "v_proj"):
        t[p + "self_attn." + name + ".bias"] = rng.standard_normal(hidden).astype(np.float32)
    t[p + "input_layernorm.weight"] = np.ones(hidden, np.float32)
    t[p + "post_attention_layernorm.weight"] = np.ones(hidden, np.float32)
    write(f"{d}/qwen2/model.safetensors", st_bytes({k: ("float32", v.shape, v.tobytes()) for k, v in t.items()}))
    qwen = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": hidden, "num_hidden_layers": 1,
            "num_attention_heads": 2, "num_key_value_heads": 2, "intermediate_size": ffn, "vocab_size": vocab,
            "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 10000.0}
    write(f"{d}/qwen2/config.json", (json.dumps(qwen, indent=2) + "\n").encode())

    # A two-layer BERT in two shards (embeddings + layer 0, then layer 1 + pooler), with its index.
    layers, positions = 2, 16
    b = {"embeddings.word_embeddings.weight": mat(vocab, hidden), "embeddings.position_embeddings.weight": mat(positions, hidden),
         "embeddings.token_type_embeddings.weight": mat(2, hidden),
         "embeddings.LayerNorm.weight": np.ones(hidden, np.float32), "embeddings.LayerNorm.bias": np.zeros(hidden, np.float32)}
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for name, shape in [("attention.self.query", (hidden, hidden)), ("attention.self.key", (hidden, hidden)),
                            ("attention.self.value", (hidden, hidden)), ("attention.output.dense", (hidden, hidden)),
                            ("intermediate.dense", (ffn, hidden)), ("output.dense", (hidden, ffn))]:
            b[p + name + ".weight"] = mat(*shape)
            b[p + name + ".bias"] = rng.standard_normal(shape[0]).astype(np.float32)
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            b[p + name + ".weight"] = np.ones(hidden, np.float32)
            b[p + name + ".bias"] = np.zeros(hidden, np.float32)
    b["pooler.dense.weight"] = mat(hidden, hidden)
    b["pooler.dense.bias"] = np.zeros(hidden, np.float32)
    shards = {"model-00001-of-00002.safetensors": [k for k in b if not k.startswith(("encoder.layer.1.", "pooler."))]}
    shards["model-00002-of-00002.safetensors"] = [k for k in b if k not in shards["model-00001-of-00002.safetensors"]]
    for f, names in shards.items():
        write(f"{d}/bert-sharded/{f}", st_bytes({k: ("float32", b[k].shape, b[k].tobytes()) for k in names}))
    index = {"metadata": {"total_size": int(sum(v.nbytes for v in b.values()))},
             "weight_map": {k: f for f, names in shards.items() for k in sorted(names)}}
    write(f"{d}/bert-sharded/model.safetensors.index.json", (json.dumps(index, indent=2, sort_keys=True) + "\n").encode())
    bert = {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": hidden, "num_hidden_layers": layers,
            "num_attention_heads": 2, "intermediate_size": ffn, "max_position_embeddings": positions, "vocab_size": vocab,
            "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu"}
    write(f"{d}/bert-sharded/config.json", (json.dumps(bert, indent=2) + "\n").encode())

    # A tiny complete Llama (two blocks, grouped-query attention, tied head): small enough for
    # the runtime's graph test under qemu, with K a multiple of 32 so every default scheme fits.
    hidden, ffn, vocab, heads, kv_heads, layers = 64, 128, 48, 4, 2, 2
    hd = hidden // heads
    t = {"model.embed_tokens.weight": mat(vocab, hidden) * 0.5, "model.norm.weight": 1 + 0.1 * mat(1, hidden)[0]}
    for i in range(layers):
        p = f"model.layers.{i}."
        for name, shape in [("self_attn.q_proj", (hidden, hidden)), ("self_attn.k_proj", (kv_heads * hd, hidden)),
                            ("self_attn.v_proj", (kv_heads * hd, hidden)), ("self_attn.o_proj", (hidden, hidden)),
                            ("mlp.gate_proj", (ffn, hidden)), ("mlp.up_proj", (ffn, hidden)), ("mlp.down_proj", (hidden, ffn))]:
            t[p + name + ".weight"] = mat(*shape) * 0.125
        t[p + "input_layernorm.weight"] = 1 + 0.1 * mat(1, hidden)[0]
        t[p + "post_attention_layernorm.weight"] = 1 + 0.1 * mat(1, hidden)[0]
    write(f"{d}/tiny-llama/model.safetensors", st_bytes({k: ("float32", v.shape, v.astype(np.float32).tobytes()) for k, v in t.items()}))
    tiny = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden, "num_hidden_layers": layers,
            "num_attention_heads": heads, "num_key_value_heads": kv_heads, "intermediate_size": ffn, "vocab_size": vocab,
            "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
            "tie_word_embeddings": True}
    write(f"{d}/tiny-llama/config.json", (json.dumps(tiny, indent=2) + "\n").encode())


# --------------------------------------------------------------------------------------------
# GGUF: every supported tensor type, dequantized by gguf-py
# --------------------------------------------------------------------------------------------

def k_quant_blocks(qtype, n_blocks, rng):
    """Random K-quant blocks with realistic finite f16 scales in the documented positions."""
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, (n_blocks, type_size), dtype=np.uint8)

    def put_f16(col, scale):
        v = (np.abs(rng.standard_normal(n_blocks)) * scale).astype(np.float16)
        raw[:, col:col + 2] = v.view(np.uint8).reshape(n_blocks, 2)

    if qtype == Q.Q2_K:
        put_f16(80, 0.01); put_f16(82, 0.01)
    elif qtype == Q.Q3_K:
        put_f16(108, 0.01)
    elif qtype in (Q.Q4_K, Q.Q5_K):
        put_f16(0, 0.01); put_f16(2, 0.01)
    elif qtype == Q.Q6_K:
        put_f16(208, 0.01)
    elif qtype == Q.Q8_K:
        d = (np.abs(rng.standard_normal(n_blocks)) * 0.01).astype(np.float32)
        raw[:, 0:4] = d.view(np.uint8).reshape(n_blocks, 4)
        qs = raw[:, 4:260].view(np.int8).astype(np.int16)
        bsums = qs.reshape(n_blocks, 16, 16).sum(axis=2).astype(np.int16)
        raw[:, 260:292] = bsums.view(np.uint8).reshape(n_blocks, 32)
    return raw


def q8_k_reference(raw):
    """Q8_K has no dequantizer in gguf-py; numpy follows ggml's dequantize_row_q8_K: d * q."""
    d = raw[:, 0:4].copy().view(np.float32)
    q = raw[:, 4:260].view(np.int8).astype(np.float32)
    return (d * q).ravel()


GGUF_TYPES = [Q.F32, Q.F16, Q.BF16, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0,
              Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K, Q.Q8_K]


def gguf_types(out, rng):
    rows, cols = 3, 512
    w = gguf.GGUFWriter(f"{out}/gguf/types.gguf", "llama")
    w.add_name("qpack types fixture")
    w.add_block_count(1)
    w.add_embedding_length(cols)
    expected = {}
    for qt in GGUF_TYPES:
        data = rng.standard_normal((rows, cols)).astype(np.float32)
        data[0, :32] = 0.0  # an all-zero block must decode to exact zeros
        name = f"t.{qt.name.lower()}"
        if qt == Q.F32:
            raw = data.view(np.uint8)
        elif qt == Q.F16:
            raw = data.astype(np.float16).view(np.uint8)
        elif qt in (Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K, Q.Q8_K):
            raw = k_quant_blocks(qt, rows * cols // 256, rng).reshape(rows, -1)
        else:
            raw = gguf.quants.quantize(data, qt)  # BF16 and the 32-blocks: gguf-py's quantizer
        raw = np.ascontiguousarray(raw, dtype=np.uint8).reshape(rows, -1)
        w.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=qt)
        if qt == Q.Q8_K:
            values = q8_k_reference(raw.reshape(-1, 292))
            source = "numpy, ggml dequantize_row_q8_K (gguf-py has no Q8_K dequantizer)"
        else:
            values = gguf.quants.dequantize(raw, qt).astype(np.float32).ravel()
            source = "gguf.quants.dequantize"
        write(f"{out}/gguf/types.expected/{name}.f32", values.astype("<f4").tobytes())
        expected[name] = {"type": qt.name, "type_id": int(qt), "shape": [cols, rows],
                          "bytes": int(raw.nbytes), "source": source}
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    doc = {"source": "written by gguf (PyPI) GGUFWriter; values from the listed reference", "tensors": expected}
    write(f"{out}/gguf/types.expected.json", (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())


def gguf_metadata(out, rng):
    path = f"{out}/gguf/metadata.gguf"
    w = gguf.GGUFWriter(path, "testarch")
    kv = [
        ("test.u8", 200, V.UINT8), ("test.i8", -100, V.INT8), ("test.u16", 60000, V.UINT16),
        ("test.i16", -30000, V.INT16), ("test.u32", 4000000000, V.UINT32), ("test.i32", -2000000000, V.INT32),
        ("test.f32", 0.15625, V.FLOAT32), ("test.bool", True, V.BOOL), ("test.string", "héllo, 世界 🙂", V.STRING),
        ("test.u64", 2**64 - 1, V.UINT64), ("test.i64", -(2**63), V.INT64), ("test.f64", -2.5e-300, V.FLOAT64),
    ]
    for key, val, vt in kv:
        w.add_key_value(key, val, vt)
    w.add_key_value("test.array.i32", [1, -2, 3], V.ARRAY, sub_type=V.INT32)
    w.add_key_value("test.array.f32", [0.5, -1.25], V.ARRAY, sub_type=V.FLOAT32)
    w.add_key_value("test.array.bool", [True, False, True], V.ARRAY, sub_type=V.BOOL)
    w.add_key_value("test.array.string", ["a", "", "ünï"], V.ARRAY, sub_type=V.STRING)
    w.add_key_value("test.array.u64", [0, 2**64 - 1], V.ARRAY, sub_type=V.UINT64)
    w.add_key_value("test.array.nested", [[1, 2], [3, 4, 5]], V.ARRAY)
    w.add_key_value("test.array.nested_strings", [["x", "yy"], ["zzz"]], V.ARRAY)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(["<s>", "</s>", "a", "b"])
    w.add_token_merges(["a b"])
    w.add_chat_template("{{ ''.__class__.__mro__ }}")
    t = rng.standard_normal((2, 32)).astype(np.float32)
    w.add_tensor("tiny", t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    expected = {
        "scalars": {k: {"type": vt.name.lower(), "value": v} for k, v, vt in kv},
        "arrays": {
            "test.array.i32": {"element_type": "int32", "values": [1, -2, 3]},
            "test.array.f32": {"element_type": "float32", "values": [0.5, -1.25]},
            "test.array.bool": {"element_type": "bool", "values": [True, False, True]},
            "test.array.string": {"element_type": "string", "values": ["a", "", "ünï"]},
            "test.array.u64": {"element_type": "uint64", "values": [0, 2**64 - 1]},
            "test.array.nested": {"element_type": "array", "values": [[1, 2], [3, 4, 5]]},
            "test.array.nested_strings": {"element_type": "array", "values": [["x", "yy"], ["zzz"]]},
        },
        "tokenizer": {"model": "gpt2", "tokens": 4, "merges": 1},
    }
    write(f"{out}/gguf/metadata.expected.json", (json.dumps(expected, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode())

    # Version 2 has the same little-endian layout: patch the version field of a copy.
    data = bytearray(open(path, "rb").read())
    data[4:8] = struct.pack("<I", 2)
    write(f"{out}/gguf/v2.gguf", bytes(data))

    # A custom alignment.
    w = gguf.GGUFWriter(f"{out}/gguf/aligned64.gguf", "llama")
    w.add_custom_alignment(64)
    w.add_tensor("a", rng.standard_normal((3,)).astype(np.float32))
    w.add_tensor("b", rng.standard_normal((5,)).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# --------------------------------------------------------------------------------------------
# Malformed inputs: one mutation of a valid file each, with the error qpack must give
# --------------------------------------------------------------------------------------------

class Cases:
    def __init__(self, out):
        self.out = out
        self.items = []

    def add(self, cid, name, data, subject, detail, offset=None, kind="malformed", path=None):
        fname = path or f"{cid}-{name}"
        full = f"{self.out}/malformed/{fname}"
        if isinstance(data, (bytes, bytearray)):
            write(full, bytes(data))
        self.items.append({"id": cid, "file": fname, "kind": kind, "subject": subject, "detail": detail, "offset": offset})


def raw_st(header_json, data=b"", length=None, pad=b""):
    """A safetensors file built by hand around a header text (for mutations the writer refuses)."""
    h = header_json.encode() if isinstance(header_json, str) else header_json
    h = h + pad
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + data


def malformed_safetensors(c, rng):
    e = '{"dtype":"F32","shape":[2],"data_offsets":[0,8]}'
    good = raw_st('{"a":%s}' % e, b"\0" * 8)
    c.add("S01", "too-small.safetensors", good[:5], "header length", "too small", 0)
    c.add("S02", "zero-length.safetensors", raw_st("", b"", 0), "header length", "header length is 0", 0)
    c.add("S03", "length-past-eof.safetensors", raw_st('{"a":%s}' % e, b"\0" * 8, length=2**64 - 1), "header length", "exceeds", 0)
    c.add("S03", "length-past-eof-small.safetensors", raw_st('{}', b"", length=100), "header length", "exceeds the", 0)
    c.add("S04", "header-too-large.safetensors", struct.pack("<Q", (16 << 20) + 1) + b"{}", "header length", "exceeds the limit", 0)
    c.add("S05", "invalid-utf8.safetensors", raw_st(b'{"a\xff":' + e.encode() + b"}", b"\0" * 8), "header", "UTF-8", 11)
    c.add("S05", "lone-surrogate.safetensors", raw_st('{"a\\ud800":%s}' % e, b"\0" * 8), "header", "lone surrogate", 11)
    c.add("S06", "header-array.safetensors", raw_st("[1,2]"), "header", "must be a JSON object", 8)
    c.add("S06", "header-unclosed.safetensors", raw_st('{"a":%s' % e, b"\0" * 8), "header", "end of input")
    c.add("S07", "bom.safetensors", raw_st(b"\xef\xbb\xbf" + ('{"a":%s}' % e).encode(), b"\0" * 8), "header", "byte-order mark", 8)
    c.add("S09", "nul-padding.safetensors", raw_st('{"a":%s}' % e, b"\0" * 8, pad=b"\0\0\0"), "header", "after the end")
    c.add("S10", "trailing-comma.safetensors", raw_st('{"a":%s,}' % e, b"\0" * 8), "header", "expected a string key")
    c.add("S10", "comment.safetensors", raw_st('{/*x*/"a":%s}' % e, b"\0" * 8), "header", "expected a string key", 9)
    c.add("S10", "nan.safetensors", raw_st('{"a":{"dtype":"F32","shape":[NaN],"data_offsets":[0,8]}}', b"\0" * 8), "header", "expected a value")
    c.add("S10", "single-quotes.safetensors", raw_st("{'a':%s}" % e, b"\0" * 8), "header", "expected a string key", 9)
    c.add("S11", "duplicate-tensor.safetensors", raw_st('{"a":%s,"a":{"dtype":"I32","shape":[2],"data_offsets":[8,16]}}' % e, b"\0" * 16), "header", 'duplicate key "a"')
    c.add("S12", "duplicate-metadata.safetensors", raw_st('{"__metadata__":{},"__metadata__":{},"a":%s}' % e, b"\0" * 8), "header", "duplicate key")
    c.add("S13", "duplicate-in-metadata.safetensors", raw_st('{"__metadata__":{"k":"1","k":"2"},"a":%s}' % e, b"\0" * 8), "header", 'duplicate key "k"')
    c.add("S14", "metadata-number.safetensors", raw_st('{"__metadata__":{"k":1},"a":%s}' % e, b"\0" * 8), "__metadata__ 'k'", "must be a string")
    c.add("S15", "tensor-named-metadata.safetensors", raw_st('{"__metadata__":%s}' % e, b"\0" * 8), "__metadata__ 'shape'", "must be a string")
    c.add("S16", "unknown-field.safetensors", raw_st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"evil":1}}', b"\0" * 8), "tensor 'a'", "unknown field 'evil'")
    c.add("S17", "missing-dtype.safetensors", raw_st('{"a":{"shape":[2],"data_offsets":[0,8]}}', b"\0" * 8), "tensor 'a'", "missing field 'dtype'")
    c.add("S17", "missing-offsets.safetensors", raw_st('{"a":{"dtype":"F32","shape":[2]}}', b"\0" * 8), "tensor 'a'", "missing field 'data_offsets'")
    c.add("S17", "offsets-length-3.safetensors", raw_st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}', b"\0" * 8), "tensor 'a'", "array of two integers")
    c.add("S18", "unknown-dtype.safetensors", raw_st('{"a":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}}', b"\0" * 8), "tensor 'a'", "unknown dtype 'F31'")
    c.add("S18", "lowercase-dtype.safetensors", raw_st('{"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}}', b"\0" * 8), "tensor 'a'", "unknown dtype 'f32'")
    c.add("S18", "unsupported-dtype.safetensors", raw_st('{"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}', b"\0" * 8), "tensor 'a'", "unsupported dtype F8_E4M3", kind="unsupported")
    c.add("S19", "negative-dim.safetensors", raw_st('{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', b"\0" * 8), "tensor 'a'", "non-negative integer")
    c.add("S19", "float-dim.safetensors", raw_st('{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', b"\0" * 8), "tensor 'a'", "found 2.0")
    c.add("S19", "exponent-dim.safetensors", raw_st('{"a":{"dtype":"F32","shape":[1e2],"data_offsets":[0,400]}}', b"\0" * 400), "tensor 'a'", "found 1e2")
    c.add("S19", "huge-dim.safetensors", raw_st('{"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}}', b"\0" * 8), "tensor 'a'", "non-negative integer")
    c.add("S20", "shape-overflow.safetensors", raw_st('{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}', b"\0" * 8), "tensor 'a'", "overflows")
    c.add("S20", "bytes-overflow.safetensors", raw_st('{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}}', b"\0" * 8), "tensor 'a'", "overflows")
    c.add("S21", "size-mismatch.safetensors", raw_st('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', b"\0" * 8), "tensor 'a'", "do not match shape [3] x F32 (12 bytes)")
    c.add("S21", "end-before-begin.safetensors", raw_st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}', b"\0" * 8), "tensor 'a'", "end before they begin")
    c.add("S22", "subbyte-dtype.safetensors", raw_st('{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', b"\0" * 2), "tensor 'a'", "unsupported dtype F4", kind="unsupported")
    two = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[%d,%d]},"b":{"dtype":"F32","shape":[2],"data_offsets":[%d,%d]}}'
    c.add("S23", "not-at-zero.safetensors", raw_st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', b"\0" * 12), "tensor 'a'", "leave a gap")
    c.add("S23", "gap.safetensors", raw_st(two % (0, 8, 12, 20), b"\0" * 20), "tensor 'b'", "leave a gap")
    c.add("S23", "overlap.safetensors", raw_st(two % (0, 8, 4, 12), b"\0" * 12), "tensor 'b'", "overlap")
    c.add("S23", "alias.safetensors", raw_st(two % (0, 8, 0, 8), b"\0" * 8), "tensor '", "overlap")
    c.add("S24", "truncated-data.safetensors", good[:-3], "tensor 'a'", "truncated")
    c.add("S25", "trailing-bytes.safetensors", good + b"PK\x03\x04", "data", "4 bytes follow the last tensor")
    many = "{" + ",".join('"t%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}' % i for i in range(1000)) + "}"
    c.items.append({"id": "S27", "file": "(generated in the test: 1,000,001 zero-size tensors)", "kind": "malformed",
                    "subject": "header", "detail": "exceed the limit", "offset": None, "generated": True})
    deep = '{"__metadata__":{"x":"1"},"a":%s,"z":%s}' % (e, "[" * 40 + "]" * 40)
    c.add("S28", "deep-nesting.safetensors", raw_st(deep, b"\0" * 8), "header", "nesting deeper than 32")
    c.add("S29", "empty-name.safetensors", raw_st('{"":%s}' % e, b"\0" * 8), "tensor name", "empty tensor name", 9)
    c.add("S29", "nul-in-name.safetensors", raw_st('{"a\\u0000b":%s}' % e, b"\0" * 8), "tensor name", "control character", 9)
    c.add("S29", "path-in-name.safetensors", raw_st('{"../etc/passwd":%s}' % e, b"\0" * 8), "tensor name", "path separator", 9)
    c.add("S29", "control-in-name.safetensors", raw_st('{"a\\nb":%s}' % e, b"\0" * 8), "tensor name", "control character", 9)
    c.add("S30", "offset-above-2p53.safetensors", raw_st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[9007199254740993,9007199254741001]}}', b"\0" * 8), "tensor 'a'", "leave a gap")
    # A 1,000-tensor header of zero-size tensors is legal (S26 counts toward the cap): kept valid.
    write(f"{c.out}/safetensors/zero-size-many.safetensors", raw_st(many))


def gguf_string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gguf_build(kvs=(), tensors=(), version=3, n_tensors=None, n_kv=None, alignment=32, data=None, trailing=b""):
    """A GGUF file built by hand, for mutations the reference writer refuses to produce.

    kvs: [(key_bytes_or_str, type_id, packed_value_bytes)]
    tensors: [(name, dims, type_id, offset)]"""
    out = bytearray(b"GGUF") + struct.pack("<I", version)
    out += struct.pack("<QQ", len(tensors) if n_tensors is None else n_tensors, len(kvs) if n_kv is None else n_kv)
    for key, t, val in kvs:
        out += gguf_string(key) + struct.pack("<I", t) + val
    for name, dims, t, off in tensors:
        out += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d & (2**64 - 1)) for d in dims)
        out += struct.pack("<IQ", t, off)
    header_end = len(out)
    pad = (-len(out)) % alignment
    out += b"\0" * pad
    if data is not None:
        out += data
    out += trailing
    return bytes(out), header_end


def f32_tensor_bytes(n):
    return np.arange(n, dtype=np.float32).tobytes()


def malformed_gguf(c, rng):
    u32 = lambda v: struct.pack("<I", v)
    arch = ("general.architecture", 8, gguf_string("llama"))
    good, hend = gguf_build([arch], [("w", [8], 0, 0)], data=f32_tensor_bytes(8))
    c.add("G01", "bad-magic.gguf", b"GGUX" + good[4:], "magic", "bad magic", 0)
    c.add("G01", "empty.gguf", b"", "magic", "too small", 0)
    c.add("G01", "truncated-header.gguf", good[:20], "kv_count", "file ends early", 16)
    c.add("G02", "version-1.gguf", good[:4] + u32(1) + good[8:], "version", "version 1 is not supported", 4, kind="unsupported")
    c.add("G02", "version-4.gguf", good[:4] + u32(4) + good[8:], "version", "unsupported GGUF version 4", 4)
    c.add("G02", "version-0.gguf", good[:4] + u32(0) + good[8:], "version", "unsupported GGUF version 0", 4)
    c.add("G02", "big-endian.gguf", good[:4] + struct.pack(">I", 3) + good[8:], "version", "big-endian", 4, kind="unsupported")
    data, _ = gguf_build([arch], [("w", [8], 0, 0)], n_tensors=2**62, data=f32_tensor_bytes(8))
    c.add("G03", "tensor-count-huge.gguf", data, "tensor_count", "exceeds the limit", 8)
    data, _ = gguf_build([arch], [("w", [8], 0, 0)], n_kv=2**63 + 5, data=f32_tensor_bytes(8))
    c.add("G03", "kv-count-huge.gguf", data, "kv_count", "exceeds the limit", 16)
    data, _ = gguf_build([arch], [("w", [8], 0, 0)], n_kv=1000, data=f32_tensor_bytes(8))
    c.add("G03", "kv-count-past-eof.gguf", data, "kv_count", "remaining bytes", 16)
    kv_bad_len = struct.pack("<Q", 2**40) + b"general.x"
    c.add("G04", "key-length-huge.gguf", gguf_build()[0][:24 - 16] + struct.pack("<QQ", 0, 1) + kv_bad_len, "metadata key", "exceeds the limit", 24)
    c.add("G05", "empty-key.gguf", gguf_build([("", 4, u32(1))])[0], "metadata key", "empty key", 24)
    c.add("G06", "key-non-utf8.gguf", gguf_build([(b"\xff\xfe", 4, u32(1))])[0], "metadata key", "not lower_snake_case", 24)
    c.add("G06", "key-uppercase.gguf", gguf_build([("General.Name", 4, u32(1))])[0], "metadata key", "not lower_snake_case", 24)
    c.add("G06", "key-too-long.gguf", gguf_build([("a" * 65536, 4, u32(1))])[0], "metadata key", "exceeds the limit of 65535", 24)
    c.add("G07", "duplicate-key.gguf", gguf_build([arch, arch])[0], "metadata 'general.architecture'", "duplicate key")
    c.add("G08", "kv-type-13.gguf", gguf_build([("general.x", 13, u32(1))])[0], "metadata 'general.x'", "unknown value type 13")
    c.add("G08", "kv-type-negative.gguf", gguf_build([("general.x", 0xFFFFFFFF, u32(1))])[0], "metadata 'general.x'", "unknown value type 4294967295")
    nested = u32(9) + struct.pack("<Q", 1)
    deep = b""
    for _ in range(6):
        deep = deep + u32(9) + struct.pack("<Q", 1)
    deep += u32(4) + struct.pack("<Q", 1) + u32(7)
    c.add("G09", "nested-too-deep.gguf", gguf_build([("general.x", 9, deep)])[0], "metadata 'general.x'", "nested deeper")
    c.add("G10", "array-count-huge.gguf", gguf_build([("general.x", 9, u32(4) + struct.pack("<Q", 2**62))])[0], "metadata 'general.x'", "exceeds the limit")
    c.add("G10", "string-array-count.gguf", gguf_build([("general.x", 9, u32(8) + struct.pack("<Q", 2**31))])[0], "metadata 'general.x'", "exceeds the limit")
    c.add("G10", "array-past-eof.gguf", gguf_build([("general.x", 9, u32(4) + struct.pack("<Q", 1000) + u32(1))])[0], "metadata 'general.x'", "cannot fit")
    c.items.append({"id": "G11", "file": "(generated in the test: 64 MiB array of empty strings)", "kind": "malformed",
                    "subject": "metadata 'general.x'", "detail": "exceeds the limit", "offset": None, "generated": True})
    c.add("G12", "bool-2.gguf", gguf_build([("general.x", 7, b"\x02")])[0], "metadata 'general.x'", "neither 0 nor 1")
    c.add("G12", "bool-array-2.gguf", gguf_build([("general.x", 9, u32(7) + struct.pack("<Q", 3) + b"\x01\x00\x05")])[0], "metadata 'general.x'", "element 2 is neither 0 nor 1")
    c.add("G13", "tensor-name-non-utf8.gguf", gguf_build([arch], [(b"w\xff", [8], 0, 0)], data=f32_tensor_bytes(8))[0], "tensor name", "not valid UTF-8")
    c.add("G14", "alignment-i32.gguf", gguf_build([("general.alignment", 5, struct.pack("<i", 32))])[0], "metadata 'general.alignment'", "must be u32")
    for a, label in ((0, "zero"), (48, "not-pow2"), (4, "not-multiple-of-8"), (2**31, "huge")):
        c.add("G15", f"alignment-{label}.gguf", gguf_build([("general.alignment", 4, u32(a))])[0], "metadata 'general.alignment'", f"alignment {a} must be")
    c.add("G16", "tensor-name-64.gguf", gguf_build([arch], [("w" * 64, [8], 0, 0)], data=f32_tensor_bytes(8))[0], "tensor '" + "w" * 64 + "'", "exceeds the limit of 63")
    c.add("G17", "duplicate-tensor.gguf", gguf_build([arch], [("w", [8], 0, 0), ("w", [8], 0, 32)], data=f32_tensor_bytes(16))[0], "tensor 'w'", "duplicate tensor name")
    c.add("G18", "n-dims-5.gguf", gguf_build([arch], [("w", [1, 1, 1, 1, 8], 0, 0)], data=f32_tensor_bytes(8))[0], "tensor 'w'", "n_dims 5")
    c.add("G19", "negative-dim.gguf", gguf_build([arch], [("w", [-8], 0, 0)], data=f32_tensor_bytes(8))[0], "tensor 'w'", "negative")
    c.add("G21", "elements-overflow.gguf", gguf_build([arch], [("w", [2**32, 2**32], 0, 0)], data=f32_tensor_bytes(8))[0], "tensor 'w'", "overflows")
    c.add("G21", "elements-overflow-2.gguf", gguf_build([arch], [("w", [2**63 - 1, 2], 0, 0)], data=f32_tensor_bytes(8))[0], "tensor 'w'", "overflows")
    c.add("G22", "bytes-overflow.gguf", gguf_build([arch], [("w", [2**61, 2], 0, 0)], data=f32_tensor_bytes(8))[0], "tensor 'w'", "overflows")
    c.add("G23", "padded-size-wraps.gguf", gguf_build([arch], [("w", [2**61 - 1], 0, 0)], data=f32_tensor_bytes(8))[0], "tensor 'w'", "overflows")
    c.add("G24", "type-1000.gguf", gguf_build([arch], [("w", [8], 1000, 0)], data=f32_tensor_bytes(8))[0], "tensor 'w'", "unknown ggml type 1000")
    c.add("G24", "type-removed-4.gguf", gguf_build([arch], [("w", [32], 4, 0)], data=b"\0" * 20)[0], "tensor 'w'", "unknown ggml type 4")
    c.add("G25", "q4-row-33.gguf", gguf_build([arch], [("w", [33], 2, 0)], data=b"\0" * 18)[0], "tensor 'w'", "not a multiple of the Q4_0 block size 32")
    c.add("G26", "offset-gap.gguf", gguf_build([arch], [("w", [8], 0, 32)], data=b"\0" * 32 + f32_tensor_bytes(8))[0], "tensor 'w'", "leaves a gap")
    c.add("G26", "offset-overlap.gguf", gguf_build([arch], [("a", [16], 0, 0), ("b", [8], 0, 32)], data=f32_tensor_bytes(24))[0], "tensor 'b'", "overlaps")
    c.add("G26", "offset-unaligned.gguf", gguf_build([arch], [("a", [8], 0, 0), ("b", [8], 0, 36)], data=f32_tensor_bytes(24))[0], "tensor 'b'", "not aligned")
    c.add("G26", "offset-alias.gguf", gguf_build([arch], [("a", [8], 0, 0), ("b", [8], 0, 0)], data=f32_tensor_bytes(8))[0], "tensor 'b'", "overlaps")
    c.add("G27", "data-truncated.gguf", good[:-5], "tensor 'w'", "truncated")
    c.add("G27", "data-missing.gguf", good[:hend], "tensor 'w'", "truncated")
    c.add("G28", "trailing-bytes.gguf", good + b"PK\x03\x04", "data section", "4 bytes follow the last tensor")
    c.add("G28", "junk-no-tensors.gguf", gguf_build([arch], data=b"", trailing=b"junk" * 16)[0], "data section", "bytes follow the last tensor")
    c.add("G04", "value-string-past-eof.gguf", gguf_build([("general.name", 8, struct.pack("<Q", 500) + b"abc")])[0], "metadata 'general.name'", "bytes left", 48)


def gguf_edge_cases(out):
    """Legal corner cases the reference writer will not produce, built by hand."""
    arch = ("general.architecture", 8, gguf_string("llama"))
    # G20: a zero dimension is an empty tensor; the next tensor starts at the same offset.
    data, _ = gguf_build([arch], [("empty", [8, 0], 0, 0), ("w", [4], 0, 0)], data=f32_tensor_bytes(4))
    write(f"{out}/gguf/zero-dim.gguf", data)
    # G13: opaque string values keep their bytes even when they are not UTF-8.
    data, _ = gguf_build([arch, ("general.description", 8, gguf_string(b"caf\xe9 \xff"))])
    write(f"{out}/gguf/opaque-string.gguf", data)


def malformed_paths(c, rng, index):
    """Sharded-index cases (F01-F03) as small directories, and non-regular inputs (F04)."""
    base = f"{c.out}/malformed"
    shard1 = open(f"{c.out}/safetensors/sharded/model-00001-of-00002.safetensors", "rb").read()
    shard2 = open(f"{c.out}/safetensors/sharded/model-00002-of-00002.safetensors", "rb").read()

    def case(cid, dirname, weight_map, subject, detail, files=None, kind="malformed", symlink=None):
        d = f"{base}/{dirname}"
        os.makedirs(d, exist_ok=True)
        for fname, data in (files if files is not None else {"model-00001-of-00002.safetensors": shard1,
                                                               "model-00002-of-00002.safetensors": shard2}).items():
            write(f"{d}/{fname}", data)
        if symlink:
            link, target = symlink
            if os.path.lexists(f"{d}/{link}"):
                os.remove(f"{d}/{link}")
            os.symlink(target, f"{d}/{link}")
        write(f"{d}/model.safetensors.index.json", (json.dumps({"weight_map": weight_map}, indent=2) + "\n").encode())
        c.add(cid, dirname, None, subject, detail, path=f"{dirname}/model.safetensors.index.json", kind=kind)

    wm = dict(index["weight_map"])
    for cid, name, target in (("F01", "index-parent-path", "../../x.safetensors"), ("F01", "index-absolute-path", "/etc/passwd"),
                              ("F01", "index-windows-path", "C:\\x.safetensors"), ("F01", "index-sub-path", "sub/../../x.safetensors")):
        m = dict(wm)
        m["layer.1.weight"] = target
        case(cid, name, m, "weight_map 'layer.1.weight'", "must be a plain file name")
    m = dict(wm)
    m["layer.1.weight"] = "outside.safetensors"
    case("F02", "index-symlink-out", m, "weight_map", "outside the model directory",
         files={"model-00001-of-00002.safetensors": shard1}, symlink=("outside.safetensors", "../../safetensors/sharded/model-00002-of-00002.safetensors"))
    m = dict(wm)
    m["layer.1.weight"] = "model-00003-of-00002.safetensors"
    case("F03", "index-missing-shard", m, "weight_map", "does not exist")
    m = dict(wm)
    del m["layer.0.bias"]
    case("F03", "index-unlisted-tensor", m, "tensor 'layer.0.bias'", "not listed")
    m = dict(wm)
    m["layer.2.weight"] = "model-00002-of-00002.safetensors"
    case("F03", "index-tensor-not-in-shard", m, "weight_map 'layer.2.weight'", "missing from shard")
    m = dict(wm)
    m["layer.0.bias"] = "model-00002-of-00002.safetensors"
    case("F03", "index-wrong-shard", m, "tensor 'layer.0.bias'", "maps this tensor to 'model-00002-of-00002.safetensors'")
    dup = '{"weight_map": {"layer.0.bias": "model-00001-of-00002.safetensors", "layer.0.bias": "model-00002-of-00002.safetensors"}}'
    os.makedirs(f"{base}/index-duplicate-entry", exist_ok=True)
    write(f"{base}/index-duplicate-entry/model.safetensors.index.json", dup.encode())
    c.add("F03", "index-duplicate-entry", None, "index", 'duplicate key "layer.0.bias"', path="index-duplicate-entry/model.safetensors.index.json")
    os.makedirs(f"{base}/F04-directory.safetensors", exist_ok=True)
    write(f"{base}/F04-directory.safetensors/.keep", b"")
    c.add("F04", "directory.safetensors", None, "file", "not a regular file", path="F04-directory.safetensors", kind="io")


def checksum_vectors(out):
    """XXH64 of a fixed byte pattern at many lengths and seeds, by the PyPI xxhash package."""
    import xxhash
    data = bytes((i * 131 + 7) % 251 for i in range(4096))
    cases = []
    for n in list(range(0, 70)) + [127, 128, 1000, 4095, 4096]:
        for seed in (0, 1, 2**64 - 1):
            cases.append({"length": n, "seed": str(seed), "xxh64": xxhash.xxh64(data[:n], seed=seed).hexdigest()})
    doc = {"source": "PyPI xxhash 3.5.0; data[i] = (i * 131 + 7) % 251", "cases": cases}
    write(f"{out}/hash/xxh64.json", (json.dumps(doc, indent=1) + "\n").encode())


def calibration_stats(out):
    """A .qcal file for the quantized tensors of gguf/types.gguf (3 x 512 each), written from
    Formats/qpack-calibration.md alone: qpack's reader must accept it, and `convert --mode static`
    on it makes Fixtures/qpack/static.qpack. Values are chosen so their shortest text is exact."""
    names = ["t.f32", "t.q2_k", "t.q4_0", "t.q4_1", "t.q5_0", "t.q5_1", "t.q8_0"]
    linears = []
    for i, name in enumerate(sorted(names)):
        channels, rows = 512, 3
        lo, hi = -0.5 - 0.25 * i, 1.5 + 0.5 * i  # exact in binary
        exponent = 0
        while max(abs(lo), abs(hi)) >= 2.0 ** exponent:
            exponent += 1
        counts = [0] * 2048
        width = 2.0 ** exponent / 1024
        # rows x channels values: the minimum once, the maximum once, the rest at 0.25.
        for v, n in ((lo, 1), (hi, 1), (0.25, rows * channels - 2)):
            counts[int(np.floor(v / width)) + 1024] += n
        linears.append({
            "tensor": name, "channels": channels, "rows": rows, "min": lo, "max": hi,
            "histogram_exponent": exponent, "histogram": counts,
            "sum_squares": [float(rows) * 0.0625 + (c % 5) for c in range(channels)],
            "channel_absmax": [0.25 + 0.5 * (c % 3) for c in range(channels)],
            "channel_min": [-0.25 if c % 2 else 0.0 for c in range(channels)],
            "channel_max": [0.25 + 0.5 * (c % 3) for c in range(channels)],
        })
    doc = {
        "format": "qpack-calibration", "version": 2, "architecture": "none", "histogram_bins": 2048,
        "data": [{"sha256": "ab" * 32, "source": "generate.py", "samples": 1, "tokens": 3, "sequence_length": 3, "seed": 0}],
        "linears": linears,
    }
    write(f"{out}/calibration/types.qcal", (json.dumps(doc, separators=(",", ":")) + "\n").encode())


def qai4c32_reference(out, rng):
    """A second implementation of qai4c32's block search (Formats/qpack-rules.md, `search`),
    written from the spec in numpy float32, one operation at a time in the documented order: the
    codes, scales and offsets of a random matrix for absmax, mse and importance, which qpack's
    quantizer must reproduce bit for bit."""
    f = np.float32
    rows, cols = 6, 96
    w = (rng.standard_normal((rows, cols)) * rng.uniform(0.01, 0.2, (rows, 1))).astype(f)
    w[0, :32] += f(0.3)  # an all-positive block
    w[1, 32:64] = f(0.125)  # a constant block
    w[2, 64:96] *= f(0.0)  # all zero
    w[3, 5] = f(2.5)  # an outlier the clip search should cut
    importance = rng.uniform(0.0, 2.0, cols).astype(f)
    importance[40:48] = f(0.0)
    mse = [f(1) - f(0.02) * f(i) for i in range(16)]
    imp = [f(1.14) - f(0.015) * f(i) for i in range(40)]

    def assign(x, scale, offset):
        lo = f(offset - f(f(8) * scale))
        return [int(min(15, max(0, np.rint(f(f(v - lo) / scale))))) for v in x]

    def block(x, method, weights):
        mn, mx = f(min(x)), f(max(x))
        if not mx > mn:
            return [8] * len(x), f(0), mn
        weighted = method == "importance" and any(v > 0 for v in weights)
        ratios = [f(1)] if method == "absmax" else (imp if weighted else mse)
        mid = f(f(mn * f(0.5)) + f(mx * f(0.5)))
        best = None
        for alpha in ratios:
            scale = f(f(alpha * f(mx - mn)) / f(15))
            if not (scale > 0 and np.isfinite(scale)):
                continue
            offset = f(f(mid - f(f(7.5) * scale)) + f(f(8) * scale))
            u = assign(x, scale, offset)
            if method != "absmax":
                num, den = f(0), f(0)
                for j, v in enumerate(x):
                    wt = weights[j] if weighted else f(1)
                    num = f(num + f(wt * f(v - f(scale * f(u[j] - 8)))))
                    den = f(den + wt)
                if den > 0:
                    offset = f(num / den)
                u = assign(x, scale, offset)
            err = f(0)
            for j, v in enumerate(x):
                d = f(v - f(f(scale * f(u[j] - 8)) + offset))
                err = f(err + f((weights[j] if weighted else f(1)) * f(d * d)))
            if best is None or err < best[0]:
                best = (err, u, scale, offset)
        return best[1], best[2], best[3]

    doc = {"rows": rows, "columns": cols, "block_length": 32, "weights_f32": f32_bits(w.ravel()),
           "importance_f32": f32_bits(importance), "searches": {}}
    for method in ("absmax", "mse", "importance"):
        codes, scales, offsets = [], [], []
        for r in range(rows):
            for b in range(cols // 32):
                u, s, o = block(list(w[r, 32 * b:32 * b + 32]), method, list(importance[32 * b:32 * b + 32]))
                codes += u
                scales.append(s)
                offsets.append(o)
        doc["searches"][method] = {"codes": codes, "scales_f32": f32_bits(np.array(scales, dtype=f)),
                                   "offsets_f32": f32_bits(np.array(offsets, dtype=f))}
    write(f"{out}/quant/qai4c32.json", (json.dumps(doc, indent=1) + "\n").encode())


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for sub in ("safetensors", "gguf", "malformed", "hash", "calibration", "architectures", "quant"):
        shutil.rmtree(f"{out}/{sub}", ignore_errors=True)
    rng = np.random.default_rng(SEED)
    safetensors_dtypes(out, rng)
    index = safetensors_sharded(out, rng)
    gguf_types(out, rng)
    architectures(out, np.random.default_rng(SEED + 1))
    gguf_metadata(out, rng)
    gguf_edge_cases(out)
    checksum_vectors(out)
    calibration_stats(out)
    qai4c32_reference(out, np.random.default_rng(SEED + 2))
    cases = Cases(out)
    malformed_safetensors(cases, rng)
    malformed_gguf(cases, rng)
    malformed_paths(cases, rng, index)
    doc = {"source": "Fixtures/generate.py; ids are rows of docs/bad-inputs.md", "cases": cases.items}
    write(f"{out}/malformed/expected.json", (json.dumps(doc, indent=1) + "\n").encode())
    print(f"generate.py: {len(cases.items)} malformed cases written to {out}")


if __name__ == "__main__":
    main()
