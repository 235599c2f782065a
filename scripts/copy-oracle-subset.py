#!/usr/bin/env python3
"""Copies the small cases of KleidiAI's golden vectors (../shared/oracle/kleidiai) into
Fixtures/kleidiai so a plain clone tests itself. Large cases (the real-model-shaped sources
wr01-wr04 and the K=1536/4096 LHS) stay in ../shared and are tested when it is present.

    python3 scripts/copy-oracle-subset.py [ORACLE_DIR] [OUT_DIR]
"""
import json, os, shutil, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "oracle", "kleidiai")
dst = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "Fixtures", "kleidiai")
LARGE = {"wr01", "wr02", "wr03", "wr04", "xa07", "xa08", "xa09", "xa10"}
index = json.load(open(os.path.join(src, "index.json")))

def files(entry):
    for v in entry.values():
        if isinstance(v, dict) and "file" in v:
            yield v["file"]
        if isinstance(v, dict) and "unwritten_mask" in v and isinstance(v["unwritten_mask"], dict):
            yield v["unwritten_mask"]["file"]

def small(case):
    for key in ("weights_source", "lhs_source"):
        if case.get(key) in LARGE:
            return False
    return True

keep = [c for c in index["cases"] if small(c)]
ids = {c["id"] for c in keep}
keep = [c for c in keep if c["kind"] != "matmul" or
        (c["inputs"]["lhs_packed"]["case"] in ids and c["inputs"]["rhs_packed"]["case"] in ids)]
shutil.rmtree(dst, ignore_errors=True)
needed = set()
for c in keep:
    needed.update(files(c["inputs"]))
    needed.update(files({"output": c["output"]}))
for f in sorted(needed):
    os.makedirs(os.path.dirname(os.path.join(dst, f)), exist_ok=True)
    shutil.copyfile(os.path.join(src, f), os.path.join(dst, f))
subset = dict(index)
subset["cases"] = keep
subset["subset_of"] = "../shared/oracle/kleidiai (cases whose sources are not in %s)" % sorted(LARGE)
with open(os.path.join(dst, "index.json"), "w") as f:
    json.dump(subset, f, indent=1, sort_keys=True)
    f.write("\n")
shutil.copyfile(os.path.join(src, "README.md"), os.path.join(dst, "README.md"))
print(f"copied {len(keep)} of {len(index['cases'])} cases, {len(needed)} files")
