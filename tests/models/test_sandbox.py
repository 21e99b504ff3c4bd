"""The sandbox for submitted model files: GGUF checks before loading (hostile headers refused,
pickles refused, the real models accepted), and the confined child process: the same answers
as in-process llama.cpp, no network, and a crash, a hang or a memory blow-up failing the run
with a reason while the caller carries on."""

from __future__ import annotations

import json
import os
import pickle
import socket
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from palmares.backends import load_model
from palmares.backends.gguf import check_gguf
from palmares.backends.sandboxed import FAULT_ENV, SandboxedBackend, SandboxFailed
from palmares.core import InputError
from palmares.core.requests import Continuation, LoglikRequest
from palmares.testing import gemma_gguf, smollm2_gguf

REQUESTS = [
    LoglikRequest("La capitale de la France est", (" Paris", " Lyon", " Berlin")),
    LoglikRequest("Deux plus deux font", (" quatre", " cinq")),
    LoglikRequest("", ("Bonjour",)),
]


# -- a small GGUF writer, to forge headers ---------------------------------------------------


def _string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def _kv_string(key: str, value: str) -> bytes:
    return _string(key) + struct.pack("<I", 8) + _string(value)


def gguf(
    *,
    magic: bytes = b"GGUF",
    version: int = 3,
    metadata: bytes | None = None,
    kv_count: int | None = None,
    tensors: list[tuple[str, list[int], int, int]] | None = None,
    tensor_count: int | None = None,
    data: bytes = b"\0" * 64,
) -> bytes:
    """A GGUF file: header, metadata (architecture 'llama' by default), tensor infos, data."""
    metadata = _kv_string("general.architecture", "llama") if metadata is None else metadata
    tensors = [("w", [4, 4], 0, 0)] if tensors is None else tensors
    infos = b"".join(
        _string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<q", d) for d in dims)
        + struct.pack("<IQ", kind, offset)
        for name, dims, kind, offset in tensors
    )  # fmt: skip
    head = magic + struct.pack(
        "<IQQ",
        version,
        len(tensors) if tensor_count is None else tensor_count,
        (1 if metadata else 0) if kv_count is None else kv_count,
    )
    body = head + metadata + infos
    body += b"\0" * (-len(body) % 32)
    return body + data


HOSTILE: dict[str, tuple[bytes, str]] = {
    "not gguf": (b"PK\x03\x04 something else entirely", "not a GGUF model file"),
    "empty": (b"", "not a GGUF model file"),
    "version 99": (gguf(version=99), "GGUF version 99 is not supported"),
    "truncated header": (gguf()[:10], "ends early"),
    "billions of tensors": (gguf(tensor_count=2**40), "implausible GGUF header"),
    "billions of keys": (gguf(kv_count=2**40), "implausible GGUF header"),
    "forged key length": (
        gguf(metadata=struct.pack("<Q", 2**62) + b"general.architecture"),
        "metadata key of 4611686018427387904 bytes",
    ),
    "forged string length": (
        gguf(metadata=_string("general.architecture") + struct.pack("<IQ", 8, 2**40)),
        "string value of 'general.architecture' of 1099511627776 bytes",
    ),
    "forged array length": (
        gguf(metadata=_string("tokens") + struct.pack("<IIQ", 9, 8, 2**50), kv_count=1),
        "metadata array 'tokens' of 1125899906842624 elements",
    ),
    "array past the end": (
        gguf(metadata=_string("scores") + struct.pack("<IIQ", 9, 6, 2**24), kv_count=1),
        "ends early",
    ),
    "nested arrays": (
        gguf(metadata=_string("n") + struct.pack("<IIQ", 9, 9, 1), kv_count=1),
        "metadata array 'n' of type 9",
    ),
    "unknown value type": (
        gguf(metadata=_string("x") + struct.pack("<I", 77), kv_count=1),
        "unknown value type 77",
    ),
    "key not UTF-8": (
        gguf(metadata=_string(b"\xff\xfe") + struct.pack("<I", 4) + b"\0\0\0\0", kv_count=1),
        "metadata key that is not UTF-8",
    ),
    "no architecture": (
        gguf(metadata=_kv_string("general.name", "x")),
        "no general.architecture",
    ),
    "alignment not a power of two": (
        gguf(
            metadata=_kv_string("general.architecture", "llama")
            + _string("general.alignment")
            + struct.pack("<II", 4, 24),
            kv_count=2,
        ),
        "general.alignment 24 is not a power of two",
    ),
    "five dimensions": (gguf(tensors=[("w", [2] * 5, 0, 0)]), "has 5 dimensions"),
    "negative dimension": (gguf(tensors=[("w", [4, -1], 0, 0)]), "has a dimension of -1"),
    "unknown tensor type": (gguf(tensors=[("w", [4], 4, 0)]), "unknown ggml type 4"),
    "unaligned tensor": (gguf(tensors=[("w", [4], 0, 3)]), "is not aligned"),
    "tensor past the end": (
        gguf(tensors=[("w", [1024, 1024], 0, 0)]),
        "tensor 'w' ends past the end of the file",
    ),
    "offset past the end": (gguf(tensors=[("w", [4], 0, 2**40)]), "ends past the end"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_gguf_headers_are_refused_with_a_reason(case: str, tmp_path: Path) -> None:
    body, reason = HOSTILE[case]
    path = tmp_path / "model.gguf"
    path.write_bytes(body)
    with pytest.raises(InputError) as caught:
        check_gguf(path)
    assert reason in str(caught.value) and "model.gguf" in str(caught.value)


def test_a_forged_minimal_gguf_passes_the_checks(tmp_path: Path) -> None:
    path = tmp_path / "ok.gguf"
    path.write_bytes(gguf())
    info = check_gguf(path)
    assert (info.architecture, info.tensors, info.parameters) == ("llama", 1, 16)


class _Payload:
    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return (os.system, ("echo pwned > /tmp/palmares-pickle-ran",))


def test_pickle_checkpoints_are_refused_without_being_loaded(tmp_path: Path) -> None:
    raw = tmp_path / "pytorch_model.bin"
    raw.write_bytes(pickle.dumps(_Payload(), protocol=4))
    zipped = tmp_path / "model.pt"  # torch.save's layout: a zip holding data.pkl
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(_Payload(), protocol=2))
    for path in (raw, zipped):
        with pytest.raises(InputError, match="pickle-based checkpoint"):
            check_gguf(path)
    assert not Path("/tmp/palmares-pickle-ran").exists()


def test_the_real_models_pass_the_checks() -> None:
    for path, arch in ((smollm2_gguf(), "llama"), (gemma_gguf(), "gemma3")):
        info = check_gguf(path)
        assert info.architecture == arch and info.tensors > 100 and info.parameters > 10**8


# -- the confined process --------------------------------------------------------------------


def test_sandboxed_answers_equal_in_process_answers() -> None:
    pytest.importorskip("llama_cpp")
    direct = load_model(f"llama:{smollm2_gguf()}", {"group": "1"})
    boxed = load_model(f"sandbox:{smollm2_gguf()}", {"group": "1", "memory_mb": "4096"})
    try:
        got: dict[str, dict[int, tuple[Continuation, ...]]] = {"direct": {}, "boxed": {}}
        direct.loglikelihood(REQUESTS, lambda i, r: got["direct"].__setitem__(i, r))
        boxed.loglikelihood(REQUESTS, lambda i, r: got["boxed"].__setitem__(i, r))
        assert boxed.identity() == direct.identity()  # the same cache keys
        for i in range(len(REQUESTS)):
            for a, b in zip(got["direct"][i], got["boxed"][i], strict=True):
                assert a.n_tokens == b.n_tokens and a.greedy == b.greedy
                assert a.logprob == pytest.approx(b.logprob, abs=1e-5)
    finally:
        direct.close()
        boxed.close()


@pytest.mark.parametrize(
    ("fault", "options", "reason"),
    [
        ("segv", {}, "crashed (SIGSEGV)"),
        ("hang", {"timeout_s": "3"}, "ran past its time limit (3 s)"),
        ("oom", {"memory_mb": "1024"}, "ran out of memory (limit 1024 MB)"),
    ],
)
def test_a_crash_a_hang_or_a_memory_blow_up_fails_with_a_reason(
    fault: str, options: dict[str, str], reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULT_ENV, fault)
    with pytest.raises(SandboxFailed) as caught:
        SandboxedBackend.create(str(smollm2_gguf()), dict(options))
    assert reason in str(caught.value)
    # the caller is unharmed: the next model runs
    monkeypatch.delenv(FAULT_ENV)
    pytest.importorskip("llama_cpp")
    backend = SandboxedBackend.create(str(smollm2_gguf()), {})
    try:
        answers: list[object] = []
        backend.loglikelihood(REQUESTS[:1], lambda i, r: answers.append(r))
        assert len(answers) == 1
    finally:
        backend.close()


def _probe(port: int, network: str) -> tuple[str, int | None]:
    order = {"model": str(smollm2_gguf()), "options": {}, "memory_bytes": 2**32, "network": network,
             "parent": os.getpid()}  # fmt: skip
    child = subprocess.run(
        [sys.executable, "-m", "palmares.backends._sandbox_child", json.dumps(order)],
        env={**os.environ, FAULT_ENV: f"connect:{port}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    answer: dict[str, str] = json.loads(child.stdout.splitlines()[0])
    uid = answer.get("uid")
    return answer.get("probe") or answer["error"], None if uid is None else int(uid)


def test_the_model_process_cannot_reach_the_network_nor_stay_root() -> None:
    """A server listening on this machine's loopback: reachable from a process with the host's
    network, not from the sandbox's (its own namespace: even loopback is down)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert _probe(port, "host")[0] == "reached"
        verdict, uid = _probe(port, "none")
    if verdict == "no-namespace":
        pytest.skip("this system cannot make a network namespace (the sandbox refuses to run)")
    assert verdict.startswith("unreachable"), verdict
    # started by root, the model's process runs as nobody; otherwise as the worker's user
    assert uid == (65534 if os.getuid() == 0 else os.getuid())


def test_a_file_llama_cpp_refuses_fails_with_a_reason(tmp_path: Path) -> None:
    """Well-formed for the checks, but no model llama.cpp can build: a refusal, by kind."""
    pytest.importorskip("llama_cpp")
    path = tmp_path / "hollow.gguf"
    path.write_bytes(gguf())
    with pytest.raises(SandboxFailed, match=r"llama\.cpp could not load the model file"):
        SandboxedBackend.create(str(path), {})
