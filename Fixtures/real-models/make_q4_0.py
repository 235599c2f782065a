"""A Q4_0 copy of SmolLM2 written by gguf-py (an external writer): every Q4_1 tensor of the
shipped GGUF dequantized and re-quantized with gguf-py's own Q4_0 quantizer; everything else
(metadata, tokenizer, the Q8_0 and F32 tensors) copied unchanged.

    python make_q4_0.py SOURCE.Q4_1.gguf OUT.Q4_0.gguf
"""
import sys

import gguf
import numpy as np
from gguf import quants

source, out = sys.argv[1], sys.argv[2]
reader = gguf.GGUFReader(source)
arch = reader.fields["general.architecture"].contents()
writer = gguf.GGUFWriter(out, arch)
for field in reader.fields.values():
    if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
        continue
    kind = field.types[0]
    sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
    writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
tensors = []
for t in reader.tensors:
    data, kind = t.data, t.tensor_type
    if kind == gguf.GGMLQuantizationType.Q4_1:
        data = quants.quantize(quants.dequantize(data, kind).astype(np.float32), gguf.GGMLQuantizationType.Q4_0)
        kind = gguf.GGMLQuantizationType.Q4_0
    tensors.append((t.name, data, kind))
    writer.add_tensor_info(t.name, data.shape, data.dtype, data.nbytes, kind)
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_ti_data_to_file()
for _, data, _ in tensors:
    writer.write_tensor_data(data)
writer.close()
print(f"{out}: {sum(1 for t in tensors if t[2] == gguf.GGMLQuantizationType.Q4_0)} Q4_0 tensors")
