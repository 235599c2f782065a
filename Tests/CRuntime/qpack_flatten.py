#!/usr/bin/env python3
"""Flattens an uncompressed .qpack Llama file for the runtime's graph self-test, which runs
without json-c (it is cross-compiled for AArch64): reads the manifest through the header
(Formats/qpack-container.md section 2.1) and writes

  DESC: "model H HEADS KV_HEADS LAYERS VOCAB MAX_POS NORM_EPS ROPE_THETA" then one line per
        tensor: "slot layer scheme layout n k bl nr kr sr offset length" (layer -1, layout -)
  BLOB: the tensors' section bytes, each at its offset.

  qpack_flatten.py FILE.qpack DESC BLOB"""
import json, struct, sys

data = open(sys.argv[1], "rb").read()
offset, length = struct.unpack_from("<QQ", data, 16)
manifest = json.loads(data[offset:offset + length])
sections = {s["name"]: s for s in manifest["sections"]}
h = manifest["model"]["hyperparameters"]
lines = ["model %d %d %d %d %d %d %r %r" % (h["hidden_size"], h["num_attention_heads"], h.get("num_key_value_heads", h["num_attention_heads"]),
                                         h["num_hidden_layers"], h["vocab_size"], h["max_position_embeddings"], float(h["rms_norm_eps"]),
                                         float(h.get("rope_theta", 10000.0)))]
blob = bytearray()
for t in manifest["tensors"]:
    s = sections[t["section"]]
    assert s["compression"] == "none", "convert without --compress"
    layout = t["layout"] or {}
    n, k = t["matrix"] if t["matrix"] else (1, s["length"] // 4)
    lines.append("%s %d %s %s %d %d %d %d %d %d %d %d" % (
        t["slot"], -1 if t["layer"] is None else t["layer"], t["scheme"], layout.get("id", "-"), n, k, layout.get("bl", 0),
        layout.get("nr", 0), layout.get("kr", 0), layout.get("sr", 0), len(blob), s["length"]))
    blob += data[s["offset"]:s["offset"] + s["length"]]
    blob += b"\0" * (-len(blob) % 64)
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
open(sys.argv[3], "wb").write(blob)
