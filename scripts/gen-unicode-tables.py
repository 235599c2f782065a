#!/usr/bin/env python3
"""Writes Sources/CQPackRuntime/qp_unicode_tables.c: the character properties the C tokenizers
need, read off the reference they must reproduce, the PyPI `tokenizers` package (pinned in
scripts/make-venv.sh). Its Rust crates use several Unicode versions at once (the BERT
normalizer's categories are older than its pre-tokenizers' regex classes), so the properties are
probed character by character through its own normalizers and pre-tokenizers rather than taken
from one Unicode database; the script then re-derives every probe from the tables and fails on
any difference.

    .venv/bin/python scripts/gen-unicode-tables.py [OUTPUT]   (default: the committed file)

scripts/test-runtime.sh regenerates it and fails when the committed file differs.
"""
import os
import sys
import unicodedata

import tokenizers
from tokenizers import normalizers, pre_tokenizers

# Flag bits (qp_unicode.h says what each means).
BERT_DROP, BERT_SPACE, CJK, MARK_NONSPACING, BERT_PUNCT, WHITESPACE, LETTER, NUMBER, REGEX_SPACE, NUMERIC = (
    1 << i for i in range(10))
HANGUL_BASE, HANGUL_COUNT = 0xAC00, 11172


def code_points():
    return (cp for cp in range(0x110000) if not 0xD800 <= cp < 0xE000)


def probe():
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    chinese = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False,
                                         lowercase=False)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True,
                                       lowercase=False)
    nfd, lower = normalizers.NFD(), normalizers.Lowercase()
    bert_pre = pre_tokenizers.BertPreTokenizer()
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    digits = pre_tokenizers.Digits(individual_digits=True)
    flags, decompositions, lowercase = {}, {}, {}
    for cp in code_points():
        c, f = chr(cp), 0
        cleaned = clean.normalize_str(c)
        if cleaned == "":
            f |= BERT_DROP
        elif cleaned == " " and c != " ":
            f |= BERT_SPACE
        if chinese.normalize_str(c) == f" {c} ":
            f |= CJK
        d = nfd.normalize_str(c)
        if d != c and not HANGUL_BASE <= cp < HANGUL_BASE + HANGUL_COUNT:
            decompositions[cp] = [ord(x) for x in d]
        if d == c and strip.normalize_str(c) == "":
            f |= MARK_NONSPACING
        lo = lower.normalize_str(c)
        if lo != c:
            lowercase[cp] = [ord(x) for x in lo]
        pieces = [p for p, _ in bert_pre.pre_tokenize_str("a" + c + "a")]
        if pieces == ["a", "a"]:
            f |= WHITESPACE
        elif len(pieces) == 3:
            f |= BERT_PUNCT
        if len(byte_level.pre_tokenize_str("a" + c)) == 1:
            f |= LETTER
        if len(byte_level.pre_tokenize_str("1" + c)) == 1:
            f |= NUMBER
        if not f & (LETTER | NUMBER) and len(byte_level.pre_tokenize_str("!" + c)) == 2:
            f |= REGEX_SPACE
        if len(digits.pre_tokenize_str("a" + c + "a")) == 3:
            f |= NUMERIC
        flags[cp] = f
    return flags, decompositions, lowercase


def check(flags, decompositions, lowercase):
    """Re-derives the full BERT normalizer's output for every single character from the tables."""
    bert = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=True)
    ccc = unicodedata.combining

    def nfd(cp):
        if HANGUL_BASE <= cp < HANGUL_BASE + HANGUL_COUNT:
            s = cp - HANGUL_BASE
            out = [0x1100 + s // 588, 0x1161 + (s % 588) // 28]
            return out + ([0x11A7 + s % 28] if s % 28 else [])
        return decompositions.get(cp, [cp])

    bad = []
    for cp in code_points():
        f = flags[cp]
        if f & BERT_DROP:
            want = ""
        elif f & BERT_SPACE:
            want = " "
        else:
            chars = [0x20, cp, 0x20] if f & CJK else [cp]
            out = []
            for x in chars:
                for y in nfd(x):
                    if not flags[y] & MARK_NONSPACING:
                        out += lowercase.get(y, [y])
            want = "".join(map(chr, out))
        if bert.normalize_str(chr(cp)) != want:
            bad.append(cp)
    # Canonical ordering uses Python's combining classes: every multi-mark decomposition must
    # already be in that order (the tokenizers crate's classes agree on what it decomposes).
    for cp, d in decompositions.items():
        classes = [ccc(chr(x)) for x in d]
        for a, b in zip(classes, classes[1:]):
            if a > b > 0:
                bad.append(cp)
    if bad:
        sys.exit(f"gen-unicode-tables: tables disagree with tokenizers on {len(bad)} characters, "
                 f"first {[hex(x) for x in bad[:10]]}")


def runs(values):
    """(start, value) where the value changes, over all code points (surrogates take their neighbour's)."""
    out, last = [], None
    for cp in range(0x110000):
        v = values.get(cp, last)
        if v != last:
            out.append((cp, v))
            last = v
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "Sources", "CQPackRuntime",
                                                                  "qp_unicode_tables.c")
    flags, decompositions, lowercase = probe()
    check(flags, decompositions, lowercase)
    combining = {cp: unicodedata.combining(chr(cp)) for cp in code_points()}
    props = runs({cp: flags[cp] | combining[cp] << 16 for cp in code_points()})
    lines = [
        f"/* Generated by scripts/gen-unicode-tables.py from tokenizers {tokenizers.__version__} (character",
        f" * properties) and Python's unicodedata {unicodedata.unidata_version} (combining classes). Do not edit. */",
        "#include \"qp_unicode.h\"",
        "",
        "// clang-format off",
        f"const uint32_t qp_unicode_property_starts[{len(props)}] = {{"]
    lines += wrap(f"0x{s:X}" for s, _ in props)
    lines += ["};", f"const uint32_t qp_unicode_property_values[{len(props)}] = {{"]
    lines += wrap(f"0x{v:X}" for _, v in props)
    lines += ["};", f"const size_t qp_unicode_property_count = {len(props)};", ""]
    for name, table in (("decomposition", decompositions), ("lowercase", lowercase)):
        keys, pool, index = sorted(table), [], []
        for k in keys:
            index.append((k, len(pool), len(table[k])))
            pool += table[k]
        lines.append(f"const qp_unicode_mapping qp_unicode_{name}s[{len(index)}] = {{")
        lines += wrap(f"{{0x{k:X}, {o}, {n}}}" for k, o, n in index)
        lines += ["};", f"const size_t qp_unicode_{name}_count = {len(index)};",
                  f"const uint32_t qp_unicode_{name}_pool[{len(pool)}] = {{"]
        lines += wrap(f"0x{x:X}" for x in pool)
        lines += ["};", ""]
    lines.append("// clang-format on")
    with open(output, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def wrap(items, width=118):
    line, out = "   ", []
    for item in items:
        if len(line) + len(item) + 2 > width:
            out.append(line)
            line = "   "
        line += " " + item + ","
    if line.strip():
        out.append(line)
    return out


if __name__ == "__main__":
    main()
