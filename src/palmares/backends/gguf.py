"""Checks of a submitted model file before anything loads it: a GGUF file read as data, with
every count, length and offset bounded, so that a hostile header is refused with a reason
instead of reaching llama.cpp's loader. Pickle-based checkpoints are refused outright: loading
one runs code.

The layout (ggml's ``docs/gguf.md``): magic ``GGUF``, version (2 or 3), tensor count, metadata
count; the metadata as typed key-value pairs; the tensor infos (name, dims, ggml type, offset);
padding to ``general.alignment``; the tensor data. Little-endian throughout.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from palmares.core import InputError

MAGIC = b"GGUF"
VERSIONS = (2, 3)
MAX_TENSORS = 100_000  # the largest published models have a few thousand
MAX_KV = 100_000
MAX_KEY = 65_536
MAX_STRING = 64 * 1024 * 1024  # one metadata string (a chat template is a few KB)
MAX_ARRAY = 1 << 26  # elements of one metadata array (a vocabulary is ~10⁵–10⁶ tokens)
#: strings of one metadata array: each is a Python step here (a length read, then skipped), so
#: 2²⁶ empty strings (a 512 MB file) would hold a web thread for minutes; 2²² take seconds
MAX_STRING_ARRAY = 1 << 22
MAX_DIMS = 4  # GGML_MAX_DIMS

# metadata value types: fixed sizes (struct formats); 8 = string, 9 = array
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
            12: "d"}  # fmt: skip
_STRING, _ARRAY = 8, 9

# ggml tensor types whose byte size is certain: id -> (elements per block, bytes per block).
# Other known ids are accepted with their offsets checked, not their sizes.
_BLOCKS = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 30: (1, 2),
}  # fmt: skip
_KNOWN_TYPES = set(range(0, 40)) - {4, 5}  # 4 and 5 (Q4_2, Q4_3) were removed from ggml


@dataclass
class GGUFInfo:
    """What the check read: enough to describe the model and to refuse a hostile file."""

    version: int
    size: int
    architecture: str
    name: str | None
    tensors: int
    parameters: int
    metadata: dict[str, object] = field(default_factory=dict)  # scalars and strings only


def refuse_pickle(path: Path) -> None:
    """Refuse a PyTorch/pickle checkpoint (``.bin``, ``.pt``, ``.pth``, ``.ckpt``, ``.pkl``):
    unpickling runs arbitrary code, so such a file is never opened beyond its first bytes."""
    with path.open("rb") as fh:
        head = fh.read(4)
    pickled = len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5
    if head[:4] == b"PK\x03\x04" and not pickled:
        try:
            with zipfile.ZipFile(path) as archive:  # reads the directory only, never a member
                pickled = any(n.endswith(".pkl") for n in archive.namelist()[:10_000])
        except (zipfile.BadZipFile, OSError):
            pickled = False
    if pickled:
        raise InputError(
            "a pickle-based checkpoint (PyTorch .bin/.pt/.ckpt): loading it would run code, so "
            "it is refused; convert the model to GGUF (llama.cpp's convert_hf_to_gguf.py)",
            file=str(path),
        )


def check_gguf(path: str | Path) -> GGUFInfo:
    """Read and bound-check a GGUF file's header, metadata and tensor infos; InputError naming
    the file and the problem when anything is off."""
    path = Path(path)
    refuse_pickle(path)
    size = path.stat().st_size
    with path.open("rb") as fh:
        reader = _Reader(fh, size, str(path))
        try:
            return _read(reader, size)
        except struct.error as exc:  # unreachable through _Reader's checks; kept as a guard
            raise reader.error(f"malformed GGUF ({exc})") from None


def _read(r: _Reader, size: int) -> GGUFInfo:
    if size < len(MAGIC) or r.take(4) != MAGIC:
        raise r.error("not a GGUF model file (it does not start with 'GGUF')")
    version = r.scalar("I")
    if version not in VERSIONS:
        raise r.error(f"GGUF version {version} is not supported (2 or 3)")
    tensors, kv_count = r.scalar("Q"), r.scalar("Q")
    if tensors > MAX_TENSORS or kv_count > MAX_KV:
        raise r.error(f"implausible GGUF header: {tensors} tensors, {kv_count} metadata keys")
    metadata: dict[str, object] = {}
    for _ in range(kv_count):
        key = r.string(MAX_KEY, "metadata key")
        kind = r.scalar("I")
        metadata[key] = r.value(kind, key)
    arch = metadata.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        raise r.error("the GGUF metadata has no general.architecture")
    alignment = metadata.get("general.alignment", 32)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise r.error(f"general.alignment {alignment!r} is not a power of two")
    infos = [_tensor_info(r) for _ in range(tensors)]
    data_start = -(-r.position // alignment) * alignment
    parameters = 0
    for name, elements, kind, offset in infos:
        parameters += elements
        if offset % alignment:
            raise r.error(f"tensor {name!r} is not aligned to {alignment} bytes")
        block = _BLOCKS.get(kind)
        nbytes = 0 if block is None else -(-elements // block[0]) * block[1]
        if data_start + offset + nbytes > size:
            raise r.error(
                f"tensor {name!r} ends past the end of the file (truncated or forged offsets)"
            )
    title = metadata.get("general.name")
    shown = {k: v for k, v in metadata.items() if not isinstance(v, list)}
    return GGUFInfo(version, size, arch, title if isinstance(title, str) else None, tensors,
                    parameters, shown)  # fmt: skip


def _tensor_info(r: _Reader) -> tuple[str, int, int, int]:
    name = r.string(MAX_KEY, "tensor name")
    dims = r.scalar("I")
    if not 1 <= dims <= MAX_DIMS:
        raise r.error(f"tensor {name!r} has {dims} dimensions (1 to {MAX_DIMS})")
    elements = 1
    for _ in range(dims):
        extent = r.scalar("q")
        if extent <= 0:
            raise r.error(f"tensor {name!r} has a dimension of {extent}")
        elements *= extent
    if elements > 1 << 48:
        raise r.error(f"tensor {name!r} has an implausible {elements} elements")
    kind = r.scalar("I")
    if kind not in _KNOWN_TYPES:
        raise r.error(f"tensor {name!r} has an unknown ggml type {kind}")
    return name, elements, kind, r.scalar("Q")


class _Reader:
    """Little-endian reads that never go past the file's end nor allocate more than a bound."""

    def __init__(self, fh: BinaryIO, size: int, name: str) -> None:
        self.fh, self.size, self.name, self.position = fh, size, name, 0

    def error(self, problem: str) -> InputError:
        return InputError(f"{problem} (at byte {self.position})", file=self.name)

    def take(self, n: int) -> bytes:
        if n < 0 or self.position + n > self.size:
            raise self.error("the GGUF file ends early (truncated, or a length is forged)")
        data = self.fh.read(n)
        self.position += n
        return data

    def skip(self, n: int) -> None:
        if n < 0 or self.position + n > self.size:
            raise self.error("the GGUF file ends early (truncated, or a length is forged)")
        self.fh.seek(n, 1)
        self.position += n

    def scalar(self, fmt: str) -> int:
        value: int = struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]
        return value

    def string(self, limit: int, what: str) -> str:
        length = self.scalar("Q")
        if length > limit:
            raise self.error(f"a {what} of {length} bytes (at most {limit})")
        try:
            return self.take(length).decode("utf-8")
        except UnicodeDecodeError:
            raise self.error(f"a {what} that is not UTF-8") from None

    def value(self, kind: int, key: str) -> object:
        if kind in _SCALARS:
            fmt = _SCALARS[kind]
            found: object = struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]
            return found
        if kind == _STRING:
            return self.string(MAX_STRING, f"string value of {key!r}")
        if kind == _ARRAY:
            inner, count = self.scalar("I"), self.scalar("Q")
            if count > MAX_ARRAY:
                raise self.error(f"metadata array {key!r} of {count} elements")
            if inner in _SCALARS:  # skipped, not read: a vocabulary's scores, token types…
                self.skip(count * struct.calcsize(_SCALARS[inner]))
            elif inner == _STRING:
                if count > MAX_STRING_ARRAY:
                    raise self.error(f"metadata array {key!r} of {count} strings")
                for _ in range(count):  # lengths bounded, contents skipped (not decoded)
                    length = self.scalar("Q")
                    if length > MAX_STRING:
                        raise self.error(f"a string of {length} bytes in {key!r}")
                    self.skip(length)
            else:  # arrays of arrays are not used by llama.cpp models: refuse the nesting
                raise self.error(f"metadata array {key!r} of type {inner}")
            return [count]
        raise self.error(f"metadata {key!r} has an unknown value type {kind}")
