"""llama.cpp's own log (« llama_kv_cache_iswa: using full-size SWA cache … », at error level
although nothing is wrong: Gemma 3's sliding window, in both the generation and the scoring
context) never reaches the terminal of ``palmares eval`` unless ``--verbose``
asks for it; ``$PALMARES_LLAMA_LOG`` may name a file instead (issue #14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from palmares.testing import gemma_gguf


def _eval(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    args = ["eval", "--task", "culture-fr", "--model", f"llama:{gemma_gguf()}", "--limit", "1",
            "--no-cache", "--model-arg", "n_ctx=512", "--output", str(tmp_path / "out"),
            *extra]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PALMARES_LLAMA_LOG"} | (env or {})
    command = [str(Path(sys.executable).parent / "palmares"), *args]
    res = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stderr


def _library_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("llama_", "ggml_", "load"))]


def test_the_library_log_is_silent_unless_verbose(tmp_path: Path) -> None:
    quiet = _eval(tmp_path)
    assert _library_lines(quiet) == [], quiet
    loud = _eval(tmp_path, "--verbose")
    assert any(line.startswith("llama_kv_cache_iswa: using full-size SWA cache") for line in
               _library_lines(loud)), loud  # fmt: skip
    log = tmp_path / "library.log"
    to_file = _eval(tmp_path, env={"PALMARES_LLAMA_LOG": str(log)})
    assert _library_lines(to_file) == [] and _library_lines(log.read_text("utf-8"))
