"""Model backends: a GGUF file run in-process (``llama``), an OpenAI-compatible server
(``openai``), and any registered by plugins. Each imports its heavy dependencies lazily."""

from palmares.backends._base import Backend, OnGeneration, OnLoglik
from palmares.backends._options import (
    missing_extra,
    option_bool,
    option_float,
    option_int,
    reject_unknown,
)
from palmares.backends._registry import BackendRegistry, backend_registry, load_model

__all__ = [
    "Backend",
    "BackendRegistry",
    "OnGeneration",
    "OnLoglik",
    "backend_registry",
    "load_model",
    "missing_extra",
    "option_bool",
    "option_float",
    "option_int",
    "reject_unknown",
]
