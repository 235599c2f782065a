#!/usr/bin/env bash
# The C runtime's own tests:
# 1. kernels and self-test natively (x86: NEON through SIMDe) and for AArch64
#    (aarch64-linux-gnu-gcc -static) under qemu-aarch64 -cpu max (dotprod: the NEON variant runs)
#    and -cpu cortex-a53 (no dotprod: the dispatcher falls back to scalar). Every KleidiAI matmul
#    case must be bit-exact in every run; the same for the qsi8d32p families (LHS packers byte for
#    byte, matmuls bit for bit, random shapes variant vs scalar). The Llama graph over a converted tiny model: a prompt
#    reaches the i8mm GEMMs where the CPU has them, with logits bit-identical to scalar.
#    The tokenizers: the character tables regenerate byte for byte from the `tokenizers` package,
#    and the C tokenizers give its ids and decoded text on the committed sentences and thousands
#    of random many-script strings (Tests/CRuntime/tokenizer_differential.py), natively and
#    under qemu-aarch64.
# 2. the .qpack loader under AddressSanitizer and UBSan: every truncation and byte flip of the
#    container fixtures.
# 3. the loader's libFuzzer target (the Swift toolchain's clang) for QPACK_FUZZ_SECONDS (20).
#    SHA-256 (every section's checksum): FIPS examples and the hardware paths (x86 SHA extensions,
#    Armv8 SHA-256 instructions under qemu-aarch64 -cpu max) against the portable loop.
# 4. docs/examples built from the installed headers with pkg-config only, natively and statically
#    for AArch64 (qemu): generate.c = qpack run = verify's packed continuation; embed.c = qpack embed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
oracle="${QPACK_ORACLE_DIR:-$root/../shared/oracle/kleidiai}"
[ -f "$oracle/index.json" ] || oracle="$root/Fixtures/kleidiai"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$oracle/index.json" > "$work/cases.txt" <<'PY'
import json, sys
for c in json.load(open(sys.argv[1]))["cases"]:
    if c["kind"] != "matmul":
        continue
    p, k = c["params"], c["kernel"]
    fam = "qsi4c32p" if "qsi4c32p" in k else "qsi4cxp" if "qsi4cxp" in k else "qsi8cxp"
    print(fam, p["m"], p["n"], p["k"], p.get("bl", 0), p["mr"], p["nr"], p["kr"], p["sr"],
          p["clamp_min_bits"], p["clamp_max_bits"], c["inputs"]["lhs_packed"]["file"], c["inputs"]["rhs_packed"]["file"], c["output"]["file"],
          c["inputs"]["lhs_f32"]["file"])
PY
src="$root/Sources/CQPackRuntime"
# Every runtime source but the loaders and the library versions (json-c and zstd are not
# cross-compiled), and the self-test.
kernels=()
for f in "$src"/qp_*.c; do case "$(basename "$f")" in qp_container.c | qp_version.c | qp_model_loader.c | qp_generate.c | qp_tokenizer_container.c) ;; *) kernels+=("$f") ;; esac; done
files=("${kernels[@]}" "$root/Tests/CRuntime/qp_runtime_selftest.c")
flags=(-std=c11 -O2 -ffp-contract=off -Wall -Wextra -Werror -Wno-unused-parameter -I"$src/include" -I"$src")
echo "== SHA-256: native, qemu-aarch64 -cpu max (the Armv8 SHA-256 instructions must run)"
hash_src="$root/Sources/CQPackHash"
cc "${flags[@]}" -I"$hash_src/include" "$hash_src/qp_sha256.c" "$root/Tests/CRuntime/qp_sha256_selftest.c" -o "$work/sha-native"
"$work/sha-native"
aarch64-linux-gnu-gcc "${flags[@]}" -static -I"$hash_src/include" "$hash_src/qp_sha256.c" \
  "$root/Tests/CRuntime/qp_sha256_selftest.c" -o "$work/sha-aarch64"
qemu-aarch64 -cpu max "$work/sha-aarch64" require
echo "== native ($(uname -m), NEON via SIMDe)"
cc "${flags[@]}" "${files[@]}" -lm -o "$work/selftest-native"
"$work/selftest-native" "$work/cases.txt" "$oracle"
echo "== aarch64, qemu -cpu max"
aarch64-linux-gnu-gcc "${flags[@]}" -march=armv8-a -static "${files[@]}" -lm -o "$work/selftest-aarch64"
qemu-aarch64 -cpu max "$work/selftest-aarch64" "$work/cases.txt" "$oracle"
echo "== aarch64, qemu -cpu cortex-a53 (no dotprod)"
qemu-aarch64 -cpu cortex-a53 "$work/selftest-aarch64" "$work/cases.txt" "$oracle"

echo "== qsi8d32p families (KleidiAI's qsi8d32p golden vectors): native, qemu -cpu max, qemu -cpu cortex-a53"
oracle8="${QPACK_ORACLE_QSI8D32P_DIR:-$root/../shared/oracle/kleidiai-qsi8d32p}"
[ -f "$oracle8/index.json" ] || oracle8="$root/Fixtures/kleidiai-qsi8d32p"
python3 - "$oracle8/index.json" > "$work/cases8.txt" <<'PY'
import json, sys
PACKERS = {"kai_run_lhs_quant_pack_qsi8d32p_f32": "portable", "kai_run_lhs_quant_pack_qsi8d32p4x8sb_f32_neon": "4x8sb",
           "kai_run_lhs_quant_pack_qsi8d32pscalef32_f32_neon": "scalef32"}
for c in json.load(open(sys.argv[1]))["cases"]:
    p = c["params"]
    if c["kind"] == "lhs_pack":
        print("lhs", PACKERS[c["function"]], p["m"], p["k"], p["bl"], p["mr"], p["kr"], p["sr"],
              c["inputs"]["lhs_f32"]["file"], c["output"]["file"])
    elif c["kind"] == "matmul":
        i = c["inputs"]
        print("mm", "qai4c32p" if "qai4c32p" in c["kernel"] else "qsi4c32p", PACKERS[p["lhs_pack_function"]], p["m"],
              p["n"], p["k"], p["bl"], p["mr"], p["nr"], p["kr"], p["sr"], p["clamp_min_bits"], p["clamp_max_bits"],
              i["lhs_f32"]["file"], i["lhs_packed"]["file"], i["rhs_packed"]["file"], c["output"]["file"])
PY
cc "${flags[@]}" "${kernels[@]}" "$root/Tests/CRuntime/qp_qsi8d32p_selftest.c" -lm -o "$work/d32-native"
"$work/d32-native" "$work/cases8.txt" "$oracle8"
aarch64-linux-gnu-gcc "${flags[@]}" -march=armv8-a -static "${kernels[@]}" "$root/Tests/CRuntime/qp_qsi8d32p_selftest.c" -lm \
  -o "$work/d32-aarch64"
for cpu in max cortex-a53; do
  echo "-- qemu -cpu $cpu"
  qemu-aarch64 -cpu "$cpu" "$work/d32-aarch64" "$work/cases8.txt" "$oracle8"
done

echo "== Llama graph over packed weights (tiny-llama, neon-i8mm): prompt through the GEMMs, bit-identical to scalar"
qpack="$root/.build/debug/qpack"
[ -x "$qpack" ] || (cd "$root" && swift build >/dev/null)
"$qpack" convert "$root/Fixtures/architectures/tiny-llama/model.safetensors" -o "$work/tiny-llama.qpack" --target neon-i8mm --quiet
python3 "$root/Tests/CRuntime/qpack_flatten.py" "$work/tiny-llama.qpack" "$work/tiny-llama.desc" "$work/tiny-llama.blob"
graph=("${kernels[@]}" "$root/Tests/CRuntime/qp_graph_selftest.c")
cc "${flags[@]}" "${graph[@]}" -lm -o "$work/graph-native"
"$work/graph-native" "$work/tiny-llama.desc" "$work/tiny-llama.blob"
aarch64-linux-gnu-gcc "${flags[@]}" -march=armv8-a -static "${graph[@]}" -lm -o "$work/graph-aarch64"
for cpu in max cortex-a53; do
  echo "-- qemu -cpu $cpu"
  qemu-aarch64 -cpu "$cpu" "$work/graph-aarch64" "$work/tiny-llama.desc" "$work/tiny-llama.blob"
done

echo "== tokenizers: character tables as tokenizers sees them; C ids and text = tokenizers' (native, qemu -cpu max)"
py="$root/.venv/bin/python"
models="${QPACK_MODELS_DIR:-$root/.cache/models}"
"$py" "$root/scripts/gen-unicode-tables.py" "$work/qp_unicode_tables.c"
cmp -s "$work/qp_unicode_tables.c" "$src/qp_unicode_tables.c" ||
  { echo "Sources/CQPackRuntime/qp_unicode_tables.c differs from a fresh scripts/gen-unicode-tables.py" >&2; exit 1; }
tok=("$src/qp_tokenizer.c" "$src/qp_unicode.c" "$src/qp_unicode_tables.c" "$root/Tests/CRuntime/qp_tokenize_tool.c")
cc "${flags[@]}" "${tok[@]}" -o "$work/tokenize-native"
"$py" "$root/Tests/CRuntime/tokenizer_differential.py" "$models" "$root/Fixtures/tokenizers/sentences.txt" "$work" 1 5000 \
  "$work/tokenize-native"
aarch64-linux-gnu-gcc "${flags[@]}" -march=armv8-a -static "${tok[@]}" -o "$work/tokenize-aarch64"
"$py" "$root/Tests/CRuntime/tokenizer_differential.py" "$models" "$root/Fixtures/tokenizers/sentences.txt" "$work" 2 1000 \
  "$work/tokenize-aarch64" qemu-aarch64 -cpu max

echo "== loader walk under ASan + UBSan"
rt="$root/Sources/CQPackRuntime"
hash="$root/Sources/CQPackHash"
loader=("$rt"/qp_*.c "$hash/qp_sha256.c") # the layout registry names the kernels, so all of the runtime
cc -std=c11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -I"$rt/include" -I"$rt" -I"$hash/include" \
  "${loader[@]}" "$root/Tests/CRuntime/qp_loader_walk.c" -ljson-c -lzstd -lm -o "$work/walk"
"$work/walk" "$root/Fixtures/qpack/tiny.qpack"
"$work/walk" "$root/Fixtures/qpack/types.qpack" 7
"$work/walk" "$root/Fixtures/qpack/types-zstd.qpack" 7
"$work/walk" "$root/Fixtures/qpack/static.qpack" 7
"$work/walk" "$root/Fixtures/qpack/smoothed.qpack" 7
echo "== loader fuzzing (libFuzzer, ${QPACK_FUZZ_SECONDS:-20} s)"
clang="$(dirname "$(command -v swift)")/clang"
"$clang" -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined -I"$rt/include" -I"$rt" -I"$hash/include" \
  "${loader[@]}" "$root/Tests/CRuntime/qp_loader_fuzz.c" -ljson-c -lzstd -lm -o "$work/fuzz" 2>/dev/null
mkdir -p "$work/corpus"
cp "$root"/Fixtures/qpack/*.qpack "$work/tiny-llama.qpack" "$work/corpus/"
# The lying containers the Swift fuzzer found (digests valid, manifests not) seed it too.
for f in "$root"/Fixtures/fuzz/*/*.qpack; do cp "$f" "$work/corpus/fuzz-$(basename "$(dirname "$f")").qpack"; done
( cd "$work" && "$work/fuzz" -max_total_time="${QPACK_FUZZ_SECONDS:-20}" -max_len=65536 -print_final_stats=1 "$work/corpus" > "$work/fuzz.log" 2>&1 ) || { tail -30 "$work/fuzz.log" >&2; echo "the fuzzer found a failing input" >&2; exit 1; }
grep -E "^(Done|stat::number_of_executed_units)" "$work/fuzz.log" || true
echo "== docs/examples/linear.c against the installed runtime (pkg-config)"
"$root/scripts/install-runtime.sh" "$work/prefix" >/dev/null
cc "$root/docs/examples/linear.c" $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs qpack-runtime) -o "$work/linear"
for t in t.f32 t.q4_0 t.q4_1 t.q5_0 t.q5_1 t.f16; do "$work/linear" "$root/Fixtures/qpack/types.qpack" "$t"; done
echo "== docs/examples/generate_ids.c against the installed runtime (qp_model.h, pkg-config only): greedy ids of tiny-llama"
cc "$root/docs/examples/generate_ids.c" $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs qpack-runtime) -o "$work/generate_ids"
"$work/generate_ids" "$work/tiny-llama.qpack" 12 1 7 11 13 > "$work/ids.txt"
[ "$(wc -l < "$work/ids.txt")" -eq 12 ] || { echo "generate_ids printed $(wc -l < "$work/ids.txt") ids, not 12" >&2; exit 1; }
echo "generate_ids: $(tr '\n' ' ' < "$work/ids.txt")"

echo "== docs/examples/generate.c and embed.c (installed headers, pkg-config only): text in, text or floats out"
cflags_libs="$(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs qpack-runtime)"
cc "$root/docs/examples/generate.c" $cflags_libs -o "$work/generate"
cc "$root/docs/examples/embed.c" $cflags_libs -o "$work/embed"
smollm2="$models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
"$qpack" convert "$smollm2" -o "$work/smollm2.qpack" --quiet
"$qpack" convert "$models/all-MiniLM-L6-v2/model.safetensors" -o "$work/minilm.qpack" --quiet
prompt="The capital of France is"
"$work/generate" "$work/smollm2.qpack" "$prompt" 8 > "$work/generate.txt"
"$qpack" run "$work/smollm2.qpack" --prompt "$prompt" --max-tokens 8 --quiet > "$work/run.txt"
"$qpack" verify "$work/smollm2.qpack" --source "$smollm2" --run-sample "$prompt" --json > "$work/verify.json"
python3 - "$work/generate.txt" "$work/run.txt" "$work/verify.json" <<'PY'
import json, sys
generated, run = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
verified = json.load(open(sys.argv[3]))["samples"][0]["continuation_packed"].encode()
if not generated or generated != run or generated != verified:
    sys.exit(f"generate.c {generated!r}, qpack run {run!r}, verify's packed continuation {verified!r}: not all equal")
print(f"generate: {generated.decode()!r} = qpack run = verify's packed continuation")
PY
for text in "A man is eating food." "안녕하세요, 세계! 東京は日本の首都です。"; do
  "$work/embed" "$work/minilm.qpack" "$text" > "$work/embed.txt"
  "$qpack" embed "$work/minilm.qpack" "$text" --json > "$work/embed.json"
  python3 - "$work/embed.txt" "$work/embed.json" <<'PY'
import json, struct, sys
def f32(x): return struct.pack("<f", float(x))
c = [f32(line) for line in open(sys.argv[1]) if line.strip()]
swift = [f32(x) for x in json.load(open(sys.argv[2]))["embeddings"][0]["embedding"]]
if len(c) != 384 or c != swift:
    sys.exit(f"embed.c and qpack embed differ ({len(c)} and {len(swift)} floats)")
print(f"embed: {len(c)} floats bit-identical to qpack embed")
PY
done
echo "== the same examples built statically for AArch64 (arm64 libzstd and json-c), under qemu-aarch64 -cpu max"
CC=aarch64-linux-gnu-gcc "$root/scripts/install-runtime.sh" "$work/prefix-aarch64" >/dev/null
cross_flags="$(PKG_CONFIG_PATH="$work/prefix-aarch64/lib/pkgconfig" \
  PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig pkg-config --static --cflags --libs qpack-runtime)"
aarch64-linux-gnu-gcc -static "$root/docs/examples/generate.c" $cross_flags -o "$work/generate-aarch64"
aarch64-linux-gnu-gcc -static "$root/docs/examples/embed.c" $cross_flags -o "$work/embed-aarch64"
qemu-aarch64 -cpu max "$work/generate-aarch64" "$work/smollm2.qpack" "$prompt" 8 > "$work/generate-aarch64.txt"
cmp "$work/generate.txt" "$work/generate-aarch64.txt" ||
  { echo "generate under qemu-aarch64 printed $(cat "$work/generate-aarch64.txt"), natively $(cat "$work/generate.txt")" >&2; exit 1; }
echo "generate (AArch64): the same continuation"
qemu-aarch64 -cpu max "$work/embed-aarch64" "$work/minilm.qpack" "A man is eating food." > "$work/embed-aarch64.txt"
"$work/embed" "$work/minilm.qpack" "A man is eating food." > "$work/embed.txt"
cmp "$work/embed.txt" "$work/embed-aarch64.txt" || { echo "embed under qemu-aarch64 differs from native" >&2; exit 1; }
echo "embed (AArch64): bit-identical to native"
