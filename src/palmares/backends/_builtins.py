"""Palmarès's own backends, registered like any plugin's."""

from __future__ import annotations

from palmares.backends._registry import BackendRegistry


def register(registry: BackendRegistry) -> None:
    registry.add("llama", "palmares.backends.llama:LlamaBackend")
    registry.add("openai", "palmares.backends.openai:OpenAIBackend")
    registry.add("sandbox", "palmares.backends.sandboxed:SandboxedBackend")
