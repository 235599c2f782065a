"""llama.cpp's figure for docs/performance.md: the same prompt, one thread, prefill then 31
greedy single-token steps, like `qpack-bench llama`. Needs llama-cpp-python in its own venv
(it builds llama.cpp from source; not part of the test venv):
    python3 -m venv /tmp/lcpp && CMAKE_ARGS="-DGGML_NATIVE=ON" /tmp/lcpp/bin/pip install llama-cpp-python==0.3.16
    /tmp/lcpp/bin/python scripts/bench/llama_cpp_decode.py .cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import sys, time
from llama_cpp import Llama
path = sys.argv[1]
llm = Llama(model_path=path, n_threads=1, n_threads_batch=1, n_ctx=256, verbose=False, logits_all=True)
prompt = llm.tokenize(b"The capital of France is", add_bos=False)
print("prompt tokens", prompt)
pre, dec, rounds = [], [], 3
for _ in range(rounds):
    llm.reset()
    t0 = time.perf_counter(); llm.eval(prompt); t1 = time.perf_counter()
    out = []
    for i in range(31):
        tok = int(llm.scores[llm.n_tokens - 1].argmax())
        out.append(tok)
        llm.eval([tok])
    t2 = time.perf_counter()
    pre.append(t1 - t0); dec.append(t2 - t1)
print("continuation", repr(llm.detokenize(out[:8]).decode()))
print("prefill %.1f tokens/s, decode %.1f tokens/s" % (len(prompt) / (sum(pre) / rounds), 31 / (sum(dec) / rounds)))
