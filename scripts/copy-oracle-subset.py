#!/usr/bin/env python3
"""Copies the small cases of a set of KleidiAI's golden vectors (../shared/oracle/<set>) into
Fixtures/<set> so a plain clone tests itself. Large cases (real-model-shaped sources and the
K=1536/4096 LHS) stay in ../shared and are tested when it is present.

    python3 scripts/copy-oracle-subset.py [SET]                  (kleidiai or kleidiai-qsi8d32p)
    python3 scripts/copy-oracle-subset.py ORACLE_DIR OUT_DIR     (the set is ORACLE_DIR's name)
"""
import json, os, shutil, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if len(sys.argv) > 2:
    src, dst = sys.argv[1], sys.argv[2]
else:
    name = sys.argv[1] if len(sys.argv) > 1 else "kleidiai"
    src, dst = os.path.join(root, "..", "shared", "oracle", name), os.path.join(root, "Fixtures", name)
LARGE = {
    "kleidiai": {"wr01", "wr02", "wr03", "wr04", "xa07", "xa08", "xa09", "xa10"},
    # real layers but one GGUF Q4_1 layer (ga02, 576 x 576), and K = 1536
    "kleidiai-qsi8d32p": {"ga01", "ha01", "ha02", "xa05", "xa10", "xa15", "xa20", "xa25", "xa30", "xa35",
                          "wa04", "wa08", "wa12", "wa16", "wa20"},
}[os.path.basename(os.path.normpath(src))]
index = json.load(open(os.path.join(src, "index.json")))

def files(entry):
    for v in entry.values():
        if isinstance(v, dict) and "file" in v:
            yield v["file"]
        if isinstance(v, dict) and "unwritten_mask" in v and isinstance(v["unwritten_mask"], dict):
            yield v["unwritten_mask"]["file"]
        if isinstance(v, dict):  # matmul inputs name their packed buffers one level down
            for w in v.values():
                if isinstance(w, dict) and "file" in w:
                    yield w["file"]

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
subset["subset_of"] = "../shared/oracle/%s (cases whose sources are not in %s)" % (
    os.path.basename(os.path.normpath(src)), sorted(LARGE))
with open(os.path.join(dst, "index.json"), "w") as f:
    json.dump(subset, f, indent=1, sort_keys=True)
    f.write("\n")
shutil.copyfile(os.path.join(src, "README.md"), os.path.join(dst, "README.md"))
print(f"copied {len(keep)} of {len(index['cases'])} cases, {len(needed)} files")
