#!/usr/bin/env python3
"""Writes SmolLM2-135M-Instruct as a Hugging Face Llama checkpoint (model.safetensors in F32,
config.json, tokenizer.json, tokenizer_config.json) from the GGUF file, with gguf-py and the
tokenizers package, so qpack's Hugging Face Llama path is tested on real weights:

- weights are gguf-py's dequantized values; q/k rows are un-permuted back to Hugging Face's
  order (the inverse of llama.cpp's convert_hf_to_gguf `permute`: GGUF pairs rows 2i, 2i+1 of
  a head, Hugging Face rows i, i + head_dim/2);
- tokenizer.json is saved by the tokenizers package from the GGUF vocabulary and merges with
  SmolLM2's pre-tokenizer (digits one by one, then byte-level with GPT-2's regex);
- `--rope-scaling llama3` adds a Llama 3.1 rope_scaling block to config.json (the weights are
  then the same file, linked), so the scaled frequencies are exercised on a real model.

    python from_gguf.py GGUF OUT_DIR [--rope-scaling llama3 --weights-from DIR]
"""
import argparse, json, os
import numpy as np
import gguf
from safetensors.numpy import save_file
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

ap = argparse.ArgumentParser()
ap.add_argument("gguf")
ap.add_argument("out")
ap.add_argument("--rope-scaling", choices=["none", "llama3"], default="none")
ap.add_argument("--weights-from", help="link model.safetensors from this directory instead of writing it")
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
r = gguf.GGUFReader(a.gguf)

def scalar(k):
    f = r.fields[k]
    return f.parts[f.data[0]].tolist()[0]

def strings(k):
    f = r.fields[k]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

L, H, heads, kv = scalar("llama.block_count"), scalar("llama.embedding_length"), scalar("llama.attention.head_count"), scalar("llama.attention.head_count_kv")
hd = H // heads

def unpermute(w, n_head):
    # GGUF row (h, i, j) holds Hugging Face row (h, j, i), i < head_dim/2, j in {0, 1}.
    return w.reshape(n_head, hd // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

names = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight", "output.weight": "lm_head.weight"}
per_layer = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
             "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
             "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm"}
tensors, ffn = {}, None
for t in r.tensors:
    w = np.ascontiguousarray(gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32))
    if t.name.startswith("blk."):
        _, i, kind, suffix = t.name.split(".")
        if kind == "attn_q": w = unpermute(w, heads)
        if kind == "attn_k": w = unpermute(w, kv)
        if kind == "ffn_gate": ffn = w.shape[0]
        name = f"model.layers.{i}.{per_layer[kind]}.{suffix}"
    else:
        name = names[t.name]
    tensors[name] = np.ascontiguousarray(w)

st = os.path.join(a.out, "model.safetensors")
if a.weights_from:
    if os.path.lexists(st): os.remove(st)
    os.symlink(os.path.relpath(os.path.join(a.weights_from, "model.safetensors"), a.out), st)
else:
    save_file(dict(sorted(tensors.items())), st + ".part", metadata={"format": "pt"})
    os.replace(st + ".part", st)

tokens, merges, types = strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges"), r.fields["tokenizer.ggml.token_type"]
token_types = [int(types.parts[i][0]) for i in types.data]
bpe = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=[tuple(m.split(" ", 1)) for m in merges]))
bpe.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
bpe.decoder = decoders.ByteLevel()
bpe.add_special_tokens([AddedToken(t, special=True) for t, ty in zip(tokens, token_types) if ty == 3])  # control tokens
bpe.save(os.path.join(a.out, "tokenizer.json"))

config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": H, "intermediate_size": ffn,
          "num_hidden_layers": L, "num_attention_heads": heads, "num_key_value_heads": kv,
          "max_position_embeddings": scalar("llama.context_length"), "rms_norm_eps": scalar("llama.attention.layer_norm_rms_epsilon"),
          "rope_theta": scalar("llama.rope.freq_base"), "vocab_size": len(tokens), "hidden_act": "silu",
          "tie_word_embeddings": "output.weight" not in [t.name for t in r.tensors], "attention_bias": False, "mlp_bias": False,
          "bos_token_id": scalar("tokenizer.ggml.bos_token_id"), "eos_token_id": scalar("tokenizer.ggml.eos_token_id"),
          "rope_scaling": None, "torch_dtype": "float32"}
if a.rope_scaling == "llama3":
    # Chosen so every branch of the scaling is taken at SmolLM2's head size and rope_theta.
    config["rope_scaling"] = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                              "original_max_position_embeddings": 8192}
with open(os.path.join(a.out, "config.json"), "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
tc = {"bos_token": tokens[scalar("tokenizer.ggml.bos_token_id")], "eos_token": tokens[scalar("tokenizer.ggml.eos_token_id")],
      "add_bos_token": bool(scalar("tokenizer.ggml.add_bos_token")) if "tokenizer.ggml.add_bos_token" in r.fields else False}
with open(os.path.join(a.out, "tokenizer_config.json"), "w") as f:
    json.dump(tc, f, indent=2)
    f.write("\n")
print(f"from_gguf: {a.out} ({len(tensors)} tensors, rope_scaling {a.rope_scaling})")
