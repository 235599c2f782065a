#!/usr/bin/env python3
"""The C tokenizers against the PyPI `tokenizers` package: the committed sentences plus COUNT
random strings drawn from many scripts (Latin with combining marks, CJK, Hangul syllables and
jamo, kana, Arabic, Hebrew, Greek, Cyrillic, emoji, digits of several scripts, whitespace and
control characters, contractions, special tokens written in the text, random code points),
through WordPiece (MiniLM's vocab.txt, and a vocabulary of single characters that makes each
character's normalization visible) and byte-level BPE (SmolLM2's GGUF vocabulary and merges,
read by gguf-py) with the `smollm` and `gpt2` pre-tokenizers. Ids and decoded text must be
identical. Exit 1 on any difference.

    tokenizer_differential.py MODELS_DIR SENTENCES WORK_DIR SEED COUNT TOOL [TOOL_PREFIX...]
"""
import os
import random
import struct
import subprocess
import sys

import unicodedata

import gguf
from tokenizers import BertWordPieceTokenizer, Tokenizer, decoders, models, normalizers, pre_tokenizers

models_dir, sentences, work, seed, count, tool = sys.argv[1:7]
prefix = sys.argv[7:]
vocab = os.path.join(models_dir, "all-MiniLM-L6-v2", "vocab.txt")
reader = gguf.GGUFReader(os.path.join(models_dir, "SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"))


def strings(key):
    f = reader.fields[key]
    return [bytes(f.parts[i]) for i in f.data]


sections = {}
for key, name in (("tokenizer.ggml.tokens", "tokens.bin"), ("tokenizer.ggml.merges", "merges.bin")):
    sections[name] = os.path.join(work, name)
    with open(sections[name], "wb") as f:
        for s in strings(key):
            f.write(struct.pack("<I", len(s)) + s)
tokens = [s.decode("utf-8") for s in strings("tokenizer.ggml.tokens")]
merges = [tuple(s.decode("utf-8").split(" ", 1)) for s in strings("tokenizer.ggml.merges")]


def bpe(split_digits):
    t = Tokenizer(models.BPE(vocab={x: i for i, x in enumerate(tokens)}, merges=merges))
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    t.pre_tokenizer = (pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
                       if split_digits else byte_level)
    t.decoder = decoders.ByteLevel()
    return t


POOLS = ["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789",
         "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "    \t\n\r\u00a0\u3000\u2009\u200b\x0b\x0c\x85\u2028",
         "àéîõüÀÉÎÕÜñçßøåæœİıǅẞΣς", "\u0300\u0301\u0302\u0308\u0327\u0345\u05b0\u0650\u093c\u0f71\u0f72\U0001D165\U0001D16D\U0001D16E",
         "東京日本首都北京欢迎你好世界一二三四五六七八九十", "안녕하세요세계한국어각갃", "\u1100\u1161\u11a8\u3131",
         "ひらがなカタカナ。、「」ーｶﾀｶﾅ", "العربية", "עברית", "Ελληνικά", "русский", "🍕🚀😀👍🏽🇫🇷",
         "\x00\x01\x1f\x7f\u200d\ufeff\ufffd\u00ad", "²³¹½①⑩٣۴߁०௧", "ﬁﬀ™℃Å"]
WORDS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "[MASK]", "[CLS]", "[SEP]", "[UNK]", "[PAD]", "[mask]"]


def random_text(rng):
    out = []
    for _ in range(rng.randint(0, 48)):
        r = rng.random()
        if r < 0.05:
            cp = rng.choice([rng.randint(0x80, 0x2FFF), rng.randint(0x3000, 0xFFFF), rng.randint(0x10000, 0x10FFFF)])
            if not 0xD800 <= cp < 0xE000:
                out.append(chr(cp))
        elif r < 0.12:
            out.append(rng.choice(WORDS))
        else:
            out.append(rng.choice(rng.choice(POOLS)))
    return "".join(out)


def escape(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r").replace("\x00", "\\0")


# A vocabulary of single characters (and their ## continuations) makes every character's
# normalized form and order visible in the ids, where MiniLM's would give [UNK] for the word.
characters = set("".join(POOLS)) | {chr(c) for c in range(0x21, 0x2500)} | {chr(c) for c in range(0x1D165, 0x1D16F)}
characters |= {c for c in "".join(normalizers.BertNormalizer(lowercase=True).normalize_str(x) for x in characters)}
characters -= {" ", "\n", "\r", "\t"}
single = os.path.join(work, "single-characters.txt")
with open(single, "w", encoding="utf-8") as f:
    f.write("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n")
    for c in sorted(characters):
        if c.strip() == c and c.isprintable() or unicodedata.category(c).startswith("M"):
            f.write(c + "\n##" + c + "\n")

rng = random.Random(int(seed))
texts = [line for line in open(sentences, encoding="utf-8").read().split("\n") if line]
texts += [random_text(rng) for _ in range(int(count))]
stdin = "".join(escape(t) + "\n" for t in texts).encode("utf-8")
failures = 0
for name, reference, args in (("wordpiece", BertWordPieceTokenizer(vocab, lowercase=True), ["wordpiece", vocab]),
                              ("wordpiece single characters", BertWordPieceTokenizer(single, lowercase=True),
                               ["wordpiece", single]),
                              ("bpe smollm", bpe(True), ["bpe", sections["tokens.bin"], sections["merges.bin"], "smollm"]),
                              ("bpe gpt2", bpe(False), ["bpe", sections["tokens.bin"], sections["merges.bin"], "gpt2"])):
    out = subprocess.run(prefix + [tool] + args, input=stdin, capture_output=True, check=True).stdout
    lines = out.decode("utf-8", "replace").split("\n")[:-1]
    if len(lines) != len(texts):
        sys.exit(f"{name}: {len(lines)} lines of output for {len(texts)} texts")
    bad = 0
    for text, line in zip(texts, lines):
        encoding = reference.encode(text)
        want = " ".join(map(str, encoding.ids)) + "\t" + escape(reference.decode(encoding.ids))
        if line != want:
            bad += 1
            if bad <= 3:
                print(f"{name}: {text!r}\n  tokenizers: {want!r}\n  C:          {line!r}")
    print(f"{name}: {len(texts)} texts, {bad} differ")
    failures += bad
sys.exit(1 if failures else 0)
