#!/usr/bin/env bash
# Creates bench/.lm-eval-venv: lm-evaluation-harness kept apart from Palmarès' own venv
# (its pins must not touch ours). Usage: bash bench/lm_eval_side/setup.sh [python]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../.lm-eval-venv"
python="${1:-python3}"

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
# torch first, pinned: pip takes the local CPU wheel here. Installed after the rest, a plain
# resolver run could fetch a CUDA torch of several GB instead.
"$venv/bin/pip" install -q torch==2.13.0
# then the rest; torch stays pinned so that no dependency can swap it
"$venv/bin/pip" install -q -r "$here/requirements.txt" torch==2.13.0
"$venv/bin/python" -c "import torch, transformers, lm_eval, gguf; print('lm-eval venv ok: torch', torch.__version__, 'transformers', transformers.__version__)"
