#!/usr/bin/env python3
"""Times the PyPI gguf package's numpy quantizer (Q4_0 and Q8_0) on the linear weights of a
sharded safetensors checkpoint: the yardstick qpack's conversion throughput is compared with.

    python gguf-quantize.py INDEX_JSON
"""
import json, os, sys, time
import numpy as np
import gguf
from safetensors import safe_open

index_path = sys.argv[1]
d = os.path.dirname(index_path)
weight_map = json.load(open(index_path))["weight_map"]
for qtype in (gguf.GGMLQuantizationType.Q4_0, gguf.GGMLQuantizationType.Q8_0):
    params, seconds = 0, 0.0
    for shard in sorted(set(weight_map.values())):
        with safe_open(os.path.join(d, shard), framework="numpy") as f:
            for name in f.keys():
                if not name.endswith("proj.weight"):
                    continue
                w = f.get_tensor(name).astype(np.float32)
                t0 = time.perf_counter()
                gguf.quants.quantize(w, qtype)
                seconds += time.perf_counter() - t0
                params += w.size
    print(f"{qtype.name} {params} {seconds:.3f}")
