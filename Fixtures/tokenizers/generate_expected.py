#!/usr/bin/env python3
"""Token ids of the committed sentences by the PyPI `tokenizers` package (the reference qpack's
tokenizers must match exactly). Needs the real models (scripts/fetch-models.sh).

    python generate_expected.py MODELS_DIR OUTPUT_JSON
"""
import json, os, sys
from tokenizers import BertWordPieceTokenizer

models, output = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
sentences = open(os.path.join(here, "sentences.txt"), encoding="utf-8").read().split("\n")
sentences = [s for s in sentences if s]
wp = BertWordPieceTokenizer(os.path.join(models, "all-MiniLM-L6-v2", "vocab.txt"), lowercase=True)
doc = {"source": "tokenizers 0.22.1 BertWordPieceTokenizer(vocab.txt, lowercase=True), with [CLS]/[SEP]",
       "wordpiece": [{"text": s, "ids": wp.encode(s).ids} for s in sentences]}
with open(output, "w", encoding="utf-8") as f:
    json.dump(doc, f, indent=1, ensure_ascii=False)
    f.write("\n")
