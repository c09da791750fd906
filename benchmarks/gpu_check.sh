#!/usr/bin/env bash
# GPU checks for one H100, in at most 5 minutes, with nothing but this working tree (torch,
# transformers and accelerate installed; no network; models built from configs).
#
#   bash benchmarks/gpu_check.sh            # results in $OUT, or ./gpu_out when OUT is unset
#
# Each step runs under its own timeout and writes $OUT/<step>.json (and <step>.log); a step
# that fails or times out is recorded in $OUT/steps.jsonl and the next one still runs. The whole
# script keeps to BUDGET_S seconds (default 290): a step's timeout is cut to what is left, and a
# step that would get under 20 s is skipped. RESERVE_S (default 100) is kept free for steps
# added after the training ones (e.g. sampling throughput): add them with `step NAME SECONDS CMD`
# after the training steps, passing RESERVE_S=0 to the last one or lowering RESERVE_S here.
#
# CPU dry run (a CPU-sized shape, same steps):  GPU_CHECK_CPU=1 bash benchmarks/gpu_check.sh
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-./gpu_out}"
mkdir -p "$OUT"
BUDGET_S="${BUDGET_S:-290}"
RESERVE_S="${RESERVE_S:-100}"
START=$(date +%s)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-python}"

# step NAME TIMEOUT_S RESERVE_S CMD...: run CMD under min(TIMEOUT_S, budget left - RESERVE_S)
step() {
    local name="$1" want="$2" reserve="$3"; shift 3
    local left=$(( BUDGET_S - ($(date +%s) - START) - reserve ))
    local limit=$(( want < left ? want : left ))
    if (( limit < 20 )); then
        echo "{\"step\": \"$name\", \"status\": \"skipped\", \"seconds_left\": $left}" >> "$OUT/steps.jsonl"
        echo "[gpu_check] $name: skipped ($left s left)"
        return
    fi
    echo "[gpu_check] $name (limit ${limit}s): $*"
    local t0=$(date +%s)
    timeout --signal=TERM --kill-after=5 "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    local status=ok
    (( rc == 124 || rc == 137 )) && status=timed_out
    (( rc != 0 && rc != 124 && rc != 137 )) && status=failed
    echo "{\"step\": \"$name\", \"status\": \"$status\", \"rc\": $rc, \"seconds\": $(( $(date +%s) - t0 )), \"limit\": $limit}" >> "$OUT/steps.jsonl"
    echo "[gpu_check] $name: $status (rc $rc, $(( $(date +%s) - t0 )) s)"
    tail -n 3 "$OUT/$name.log"
}

: > "$OUT/steps.jsonl"
if [[ "${GPU_CHECK_CPU:-0}" == 1 ]]; then   # a CPU-sized shape for dry runs of this script
    BIG=(--model tiny --seq-len 256 --vocab 4096 --micro-batch 8 --accum 2 --steps 3 --warmup 1 --cpu)
    SMOL=(--model tiny --seq-len 256 --vocab 4096 --micro-batch 8 --accum 2 --steps 3 --warmup 1 --cpu)
    LOOP=(model=tiny max_seq_len=512 global_batch=16 micro_batch=8 max_steps=8)
else
    MB="${MICRO_BATCHES:-32}"                  # e.g. MICRO_BATCHES=32,64 to look for the largest that fits
    BIG=(--model tinycodelm-150M --seq-len 1024 --vocab 50304 --micro-batch "$MB" --accum 4 --steps 10 --warmup 3)
    SMOL=(--model smollm2-135m --seq-len 1024 --micro-batch "$MB" --accum 4 --steps 10 --warmup 3)
    LOOP=(model=tinycodelm-150M max_seq_len=1024 global_batch=64 micro_batch=32 max_steps=12)
fi
TT=benchmarks/train_throughput.py

step env 20 "$RESERVE_S" "$PY" -c "
import json, torch, transformers, accelerate
d = {'torch': torch.__version__, 'transformers': transformers.__version__, 'accelerate': accelerate.__version__,
     'cuda': torch.cuda.is_available(), 'device': torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu',
     'bf16': torch.cuda.is_available() and torch.cuda.is_bf16_supported()}
json.dump(d, open('$OUT/env.json', 'w')); print(d)"
# the real loop (lintseq.train.loop.train): TinyCodeLM-150M at the paper's shape, packing with
# document boundaries, compile on by default, bf16; edit-sequence-shaped records from the stdlib
# (not the generator: its linter's pyflakes may be absent there)
step train_loop_150m 100 "$RESERVE_S" "$PY" - "$OUT" "${LOOP[@]}" <<'PYEOF'
import glob, json, os, sys, sysconfig, time
from lintseq.train.config import TrainConfig
from lintseq.train.loop import train
out, overrides = sys.argv[1], sys.argv[2:]
data = os.path.join(out, "loop_data.jsonl")
with open(data, "w") as fh:
    for f in sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "*.py")))[:400]:
        lines = open(f, encoding="utf-8", errors="replace").read().split("\n")[:80]
        completion = f"@@ -0,0 +1,{len(lines)} @@\n" + "\n".join("+" + l for l in lines) + "\n<|diff|>\n<|diff|>"
        fh.write(json.dumps({"prompt": f"Write the module {os.path.basename(f)}.\n<|diff|>", "completion": completion}) + "\n")
t = time.time()
s = train(TrainConfig.load(None, [f"data={data}", f"output_dir={out}/loop_run", f"cache_dir={out}/cache", "packing=true",
                                  "lr=1e-3", "warmup_ratio=0.1", "log_every=4", *overrides]))
keep = ("steps", "examples", "rows", "processes", "backend", "tokens_per_s", "mfu", "flops_per_token", "cache",
        "encode_seconds", "train_seconds")
r = {k: s.get(k) for k in keep} | {"first_loss": s["losses"][0], "last_loss": s["losses"][-1], "losses": s["losses"],
                                   "loss_fell": s["losses"][-1] < s["losses"][0], "overrides": overrides,
                                   "wall_s": round(time.time() - t, 1)}
json.dump(r, open(os.path.join(out, "train_loop_150m.json"), "w"), indent=1)
print(r)
PYEOF
# the headline benchmark: TinyCodeLM-150M (vocab 50,304, seq 1024, bf16), compiled
step train_150m_compiled 100 "$RESERVE_S" "$PY" $TT "${BIG[@]}" --compile true --json "$OUT/train_150m_compiled.json"
# SmolLM2-135M's shape (SFT), compiled
step train_smollm2_compiled 100 "$RESERVE_S" "$PY" $TT "${SMOL[@]}" --compile true --json "$OUT/train_smollm2_compiled.json"
# the same 150M step without torch.compile (what compile=false costs; first_loss should match)
step train_150m_eager 40 "$RESERVE_S" "$PY" $TT "${BIG[@]}" --compile false --json "$OUT/train_150m_eager.json"
# boundary-aware packing with FlexAttention's block mask (4 documents per row; no backward on CPU,
# so never run here): the packed rows' alternative to SDPA with a dense block-causal mask
if [[ "${GPU_CHECK_CPU:-0}" != 1 ]]; then
step train_150m_packed_flex 60 "$RESERVE_S" "$PY" $TT "${BIG[@]}" --compile true --attn flex_attention --docs-per-row 4 --json "$OUT/train_150m_packed_flex.json"
fi

# sampling on the accelerator (issue: 164 x 10 samples of <= 384 new tokens in <= 60 s): SmolLM2-135M's
# shape with random weights, so no sample stops early (the worst case), through `lintseq sample`
if [[ "${GPU_CHECK_CPU:-0}" == 1 ]]; then SAMP=(--shape tiny --tasks 8 -n 2 --max-new-tokens 32); else SAMP=(--tasks 164 -n 10 --max-new-tokens 384); fi
step sample_throughput 90 0 "$PY" benchmarks/sample_throughput.py "${SAMP[@]}" --out "$OUT/sample_throughput.json"

"$PY" - "$OUT" <<'EOF'
import glob, json, os, sys
out = sys.argv[1]
summary = {"steps": [json.loads(l) for l in open(os.path.join(out, "steps.jsonl")) if l.strip()]}
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    name = os.path.basename(path)[:-5]
    if name != "summary":
        try:
            summary[name] = json.load(open(path))
        except ValueError:
            summary[name] = "unreadable"
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
for k, v in summary.items():
    for r in (v.get("results", []) if isinstance(v, dict) else []):
        print(f"{k}: mb {r.get('micro_batch')}: {r.get('tokens_per_s', r.get('error'))} tokens/s, MFU {r.get('mfu', '-')}, peak {r.get('peak_mem_gb', '-')} GB")
EOF
echo "[gpu_check] done in $(( $(date +%s) - START )) s; results in $OUT"
