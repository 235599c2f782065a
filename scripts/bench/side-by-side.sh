#!/usr/bin/env bash
# qpack beside llama.cpp on SmolLM2-135M (the shipped Q4_1 GGUF), for docs/performance.md. Not a test.
#   scripts/bench/side-by-side.sh x86 [ROUNDS=5]   tokens/s, 1 and 2 threads, runs interleaved
#   scripts/bench/side-by-side.sh aarch64          instructions per decoded and per prompt token (qemu)
# x86: prefill = a 64-token prompt in one step, decode = 128 tokens one at a time (llama-bench's
# pp64 and tg128; scripts/bench/qp_speed_bench.c times qpack the same way), qpack's default
# conversion against llama.cpp on the Q4_1 GGUF as shipped; each round runs both programs at each
# thread count in turn, and the medians and ranges over the rounds are printed with their ratio.
# aarch64: executed instructions under qemu-aarch64 -cpu max (scripts/bench/insnprofile.c), one
# thread: per decoded token = (16 + 1 new tokens - 1 new token) / 16, per prompt token = (a 33-token
# prompt - a 1-token prompt) / 32; qpack's default conversion (scripts/bench/e2e-insncount.sh, the
# same differences) against llama.cpp on the Q4_1 GGUF and on a Q4_0 requantization (ggml's
# repacked Q4_0 kernels), a static build with -march=armv8.2-a+dotprod+i8mm.
# llama.cpp is built once into .cache/llama.cpp from the sources vendored in the PyPI sdist
# llama-cpp-python 0.3.16 (sha256-checked); needs cmake, g++ and g++-aarch64-linux-gnu.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
mode="${1:?usage: side-by-side.sh x86 [ROUNDS] | aarch64}"
cache="$root/.cache/llama.cpp"
gguf="$root/.cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
sdist_sha256=34ed0f9bd9431af045bb63d9324ae620ad0536653740e9bb163a2e1fcb973be6
[ -f "$gguf" ] || "$root/scripts/fetch-models.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

llama_sources() {
  [ -f "$cache/src/CMakeLists.txt" ] && return
  mkdir -p "$cache"
  local tarball="$cache/llama_cpp_python-0.3.16.tar.gz"
  if [ ! -f "$tarball" ]; then
    local url
    url="$(curl -fsSL https://pypi.org/simple/llama-cpp-python/ | grep -o 'https://[^"#]*llama_cpp_python-0\.3\.16\.tar\.gz' | head -1)"
    curl -fsSL -o "$tarball.part" "$url"
    mv "$tarball.part" "$tarball"
  fi
  echo "$sdist_sha256  $tarball" | sha256sum -c --quiet
  tar xzf "$tarball" -C "$work" llama_cpp_python-0.3.16/vendor/llama.cpp
  rm -rf "$cache/src"
  mv "$work/llama_cpp_python-0.3.16/vendor/llama.cpp" "$cache/src"
}

# llama_build DIR TARGET... [-- CMAKE_OPTION...]
llama_build() {
  local dir="$1"; shift
  local targets=() options=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do targets+=("$1"); shift; done
  [ $# -gt 0 ] && shift && options=("$@")
  local missing=0 t
  for t in "${targets[@]}"; do [ -x "$dir/bin/$t" ] || missing=1; done
  [ "$missing" = 0 ] && return
  llama_sources
  echo "building llama.cpp in $dir (a few minutes, once)" >&2
  cmake -S "$cache/src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DGGML_OPENMP=OFF -DLLAMA_CURL=OFF \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF "${options[@]}" > "$dir.log" 2>&1
  cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}" >> "$dir.log" 2>&1
}

qpack_default() { # the default conversion of the GGUF, once per qpack build
  local out="$cache/smollm2-default.qpack"
  (cd "$root" && swift build -c release --product qpack > /dev/null)
  if [ ! -f "$out" ] || [ "$root/.build/release/qpack" -nt "$out" ]; then
    "$root/.build/release/qpack" convert "$gguf" -o "$out" --force --quiet
  fi
  echo "$out"
}

case "$mode" in
x86)
  rounds="${2:-5}"
  llama_build "$cache/build-x86" llama-bench -- -DGGML_NATIVE=ON
  model="$(qpack_default)"
  "$root/scripts/install-runtime.sh" "$work/prefix" > /dev/null
  # shellcheck disable=SC2046
  cc -O2 "$root/scripts/bench/qp_speed_bench.c" $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --static \
    --cflags --libs qpack-runtime) -o "$work/speed"
  for r in $(seq "$rounds"); do
    for t in 1 2; do
      read -r _ pre _ dec _ < <("$work/speed" "$model" "$t" 64 128)
      echo "qpack $t prefill $pre" >> "$work/results"
      echo "qpack $t decode $dec" >> "$work/results"
      "$cache/build-x86/bin/llama-bench" -m "$gguf" -p 64 -n 128 -t "$t" -r 1 -o csv 2> /dev/null |
        python3 -c '
import csv, sys
for row in csv.DictReader(sys.stdin):
    kind = "prefill" if int(row["n_prompt"]) else "decode"
    print("llama.cpp", sys.argv[1], kind, row["avg_ts"])' "$t" >> "$work/results"
    done
    echo "round $r of $rounds done" >&2
  done
  python3 - "$work/results" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    who, threads, kind, value = line.split()
    runs[who, threads, kind].append(float(value))
print("| threads | step | qpack tokens/s, median (range) | llama.cpp Q4_1 tokens/s, median (range) | qpack / llama.cpp |")
print("|---|---|---|---|---|")
for threads in ("1", "2"):
    for kind in ("prefill", "decode"):
        q, l = runs["qpack", threads, kind], runs["llama.cpp", threads, kind]
        fmt = lambda v: f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})"
        step = "prefill (64-token prompt)" if kind == "prefill" else "decode (128 tokens)"
        print(f"| {threads} | {step} | {fmt(q)} | {fmt(l)} | {statistics.median(q) / statistics.median(l):.2f} |")
print(f"({len(runs['qpack', '1', 'decode'])} rounds)")
PY
  ;;
aarch64)
  llama_build "$cache/build-x86" llama-quantize -- -DGGML_NATIVE=ON
  llama_build "$cache/build-aarch64" llama-bench -- -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
    -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc -DCMAKE_CXX_COMPILER=aarch64-linux-gnu-g++ -DGGML_NATIVE=OFF \
    -DGGML_CPU_ARM_ARCH=armv8.2-a+dotprod+i8mm -DCMAKE_EXE_LINKER_FLAGS=-static
  q40="$cache/smollm2-q4_0.gguf"
  [ -f "$q40" ] || "$cache/build-x86/bin/llama-quantize" --allow-requantize "$gguf" "$q40" Q4_0 > "$q40.log" 2>&1
  gcc -shared -fPIC -O2 "$root/scripts/bench/insnprofile.c" -o "$work/libinsnprofile.so"
  count() { # MODEL PROMPT NEW: total instructions of one llama-bench run
    qemu-aarch64 -cpu max -d plugin -plugin "$work/libinsnprofile.so" "$cache/build-aarch64/bin/llama-bench" \
      -m "$1" -p "$2" -n "$3" -r 1 --no-warmup -t 1 2> "$work/profile" > /dev/null
    awk '$1 == "insnprofile" { s += $3 } END { printf "%.0f\n", s }' "$work/profile"
  }
  for m in "$gguf" "$q40"; do
    a="$(count "$m" 0 1)" b="$(count "$m" 0 17)" c="$(count "$m" 1 0)" d="$(count "$m" 33 0)"
    python3 -c 'import sys; a, b, c, d = map(int, sys.argv[2:]); print(f"llama.cpp {sys.argv[1]}: {(b - a) / 16e6:.2f} M per decoded token, {(d - c) / 32e6:.2f} M per prompt token")' \
      "$(basename "$m")" "$a" "$b" "$c" "$d"
  done
  echo "qpack, default conversion:"
  "$root/scripts/bench/e2e-insncount.sh" "$(qpack_default)" 33 16
  ;;
*)
  echo "usage: side-by-side.sh x86 [ROUNDS] | aarch64" >&2
  exit 64
  ;;
esac
