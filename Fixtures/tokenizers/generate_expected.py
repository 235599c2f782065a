#!/usr/bin/env python3
"""Token ids (and their decoded text) of the committed sentences by the PyPI `tokenizers` package (the reference qpack's
tokenizers must match exactly). Needs the real models (scripts/fetch-models.sh).

    python generate_expected.py MODELS_DIR OUTPUT_JSON
"""
import json, os, sys
import gguf
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from tokenizers import BertWordPieceTokenizer

models_dir, output = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
sentences = open(os.path.join(here, "sentences.txt"), encoding="utf-8").read().split("\n")
sentences = [s for s in sentences if s]
wp = BertWordPieceTokenizer(os.path.join(models_dir, "all-MiniLM-L6-v2", "vocab.txt"), lowercase=True)

# SmolLM2: GPT-2 byte-level BPE over the GGUF's vocabulary and merges, with the pre-tokenizer of
# its tokenizer.json (single digits, then the GPT-2 regex); llama.cpp calls this pre type "smollm".
r = gguf.GGUFReader(os.path.join(models_dir, "SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"))
def strings(key):
    f = r.fields[key]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
tokens, merges = strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges")
bpe = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=[tuple(m.split(" ", 1)) for m in merges]))
bpe.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
bpe.decoder = decoders.ByteLevel()
# The same vocabulary with the plain GPT-2 pre-tokenizer (ByteLevel alone, digits in runs): what
# a tokenizer.json naming only ByteLevel asks for (qpack's "gpt2" pre-tokenizer).
gpt2 = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=[tuple(m.split(" ", 1)) for m in merges]))
gpt2.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
gpt2.decoder = decoders.ByteLevel()
doc = {"source": "tokenizers 0.22.1: BertWordPieceTokenizer(vocab.txt, lowercase=True) with [CLS]/[SEP]; "
                 "BPE(GGUF tokens, merges) with Digits(individual) + ByteLevel(add_prefix_space=False) for SmolLM2",
       "wordpiece": [{"text": s, "ids": wp.encode(s).ids, "decoded": wp.decode(wp.encode(s).ids)} for s in sentences],
       "bpe": [{"text": s, "ids": bpe.encode(s).ids, "decoded": bpe.decode(bpe.encode(s).ids)} for s in sentences],
       "bpe_gpt2": [{"text": s, "ids": gpt2.encode(s).ids, "decoded": gpt2.decode(gpt2.encode(s).ids)}
                    for s in sentences]}
with open(output, "w", encoding="utf-8") as f:
    json.dump(doc, f, indent=1, ensure_ascii=False)
    f.write("\n")
