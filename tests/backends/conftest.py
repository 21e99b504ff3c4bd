"""Fixtures for the backend tests: llama-cpp-python's OpenAI-compatible server on the reference
models, one per test process (pytest-xdist workers each start their own, on a free port)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _servers import llama_server


@pytest.fixture(scope="session")
def smollm2_server() -> Iterator[str]:
    """Base URL (``…/v1``) of a server on SmolLM2-135M-Instruct (chat template, no BOS)."""
    from palmares.testing import smollm2_gguf

    with llama_server(smollm2_gguf()) as url:
        yield url


@pytest.fixture(scope="session")
def gemma_server() -> Iterator[str]:
    """Base URL of a server on Gemma 3 270M (base model, BOS)."""
    from palmares.testing import gemma_gguf

    with llama_server(gemma_gguf()) as url:
        yield url
