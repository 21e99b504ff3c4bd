"""Receiving a submission over HTTP, for the API and the submit page alike: the upload is
copied to a temporary file with its size checked as it streams (predictions sent with gzip are
decompressed on the way, bounded by the same limit), recognised when it is plainly something
else (an archive, a pickle, UTF-16 text, a model given as predictions), then handed to the
service, which checks it all before counting anything.

The body as a whole was already held to a limit while it streamed in
(:mod:`palmares.web.limits`); here each kind of file is held to its own.

The upload lives in a temporary folder removed when the request ends, whatever the outcome. A
process that cannot remove it (killed, or crashed in native code) left it named after its pid:
the next server process to receive an upload removes the folders of processes that are gone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import unicodedata
import zlib
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns import Artifacts, submit_endpoint, submit_model_file, submit_predictions
from palmares.campaigns.credentials import Vault
from palmares.core import InputError, Message
from palmares.tasks.predictions import format_from_name
from palmares.web.limits import MB, TooLarge
from palmares.web.settings import Settings

CHUNK = 1 << 20
#: the temporary folders of uploads: ``palmares-upload-<pid>-<random>``
PREFIX = "palmares-upload-"
_ORPHAN = re.compile(rf"{PREFIX}(\d+)-[a-z0-9_]+")
_swept = threading.Event()
#: how much of a file is looked at to recognise what it is
HEAD = 64 * 1024
GZIP = b"\x1f\x8b"
#: what a file starts with → what it is, for files that are plainly not text
MAGIC = (
    (b"PK\x03\x04", Message("a ZIP archive")),
    (b"PK\x05\x06", Message("an empty ZIP archive")),
    (GZIP, Message("gzip-compressed data (compressed twice?)")),
    (b"BZh", Message("bzip2-compressed data")),
    (b"\xfd7zXZ\x00", Message("xz-compressed data")),
    (b"\x28\xb5\x2f\xfd", Message("zstd-compressed data")),
    (b"7z\xbc\xaf\x27\x1c", Message("a 7-Zip archive")),
    (b"\xff\xfe\x00\x00", Message("UTF-32 text")),
    (b"\x00\x00\xfe\xff", Message("UTF-32 text")),
    (b"\xff\xfe", Message("UTF-16 text")),
    (b"\xfe\xff", Message("UTF-16 text")),
)


def receive(
    db: sessionmaker[Session],
    artifacts: Artifacts,
    settings: Settings,
    token: str,
    campaign_id: int,
    task_id: str,
    *,
    kind: str,
    file: BinaryIO | None = None,
    filename: str | None = None,
    url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    split: str = "hidden",
    system: str | None = None,
) -> str:
    """Queue a predictions file, a GGUF model file or an endpoint; the submission's id."""
    if kind == "endpoint":
        return submit_endpoint(
            db, token, campaign_id, task_id, url or "", model or "", api_key, system=system,
            vault=Vault.for_artifacts(artifacts.root),  # the key is stored sealed
        )  # fmt: skip
    if kind not in ("predictions", "model_file"):
        raise InputError(Message("unknown submission kind {kind}", kind=repr(kind)), field="kind")
    if file is None:
        raise InputError(Message("a {kind} submission uploads a file", kind=kind), field="file")
    name = shown_name(filename)  # errors name the file as sent, never a server path
    megabytes = settings.max_model_mb if kind == "model_file" else settings.max_upload_mb
    sweep_orphans()
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-") as folder:
        # the server's own name: the sent one may be '..', empty, too long or hold a NUL
        if kind == "predictions":
            local = Path(folder) / f"upload{_suffix(filename or '')}"
            _receive_text(file, local, megabytes, name)
        else:
            local = Path(folder) / "upload.gguf"
            _copy(file.read(CHUNK), file, local, megabytes, name)
            _check_model(local, name)
        try:
            if kind == "predictions":
                return submit_predictions(
                    db, artifacts, token, campaign_id, task_id, local, split=split, system=system
                )
            return submit_model_file(
                db, artifacts, token, campaign_id, task_id, local, system=system
            )
        except InputError as exc:
            if exc.file is not None and exc.file.startswith(folder):
                exc.file = name
            raise


def sweep_orphans(*, again: bool = False) -> list[str]:
    """Remove the upload folders that processes gone since left behind (once per process,
    unless ``again``); the names removed. A folder of a live process, or another user's, stays."""
    if _swept.is_set() and not again:
        return []
    _swept.set()  # two requests sweeping at once is harmless
    removed = []
    root = tempfile.gettempdir()
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    for entry in entries:
        found = _ORPHAN.fullmatch(entry.name)
        if found is None or int(found.group(1)) == os.getpid():
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        if not _alive(int(found.group(1))):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or a number no process has: left alone
    return True


def shown_name(filename: str | None) -> str:
    """The sent file name as errors show it: its last part (either slash), no control
    characters, at most 100 characters."""
    last = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(c for c in last if unicodedata.category(c)[0] != "C")[:100]
    return clean if clean.strip(". ") else "upload"


def _suffix(name: str) -> str:
    """The suffix of the format the sent name gives (``.csv`` for ``p.csv.gz``), or none when
    it gives none: the reader then tells the format from the content
    (:func:`palmares.tasks.predictions.predictions_format`)."""
    fmt = format_from_name(shown_name(name))
    return "" if fmt is None else f".{fmt}"


def _receive_text(file: BinaryIO, local: Path, megabytes: int, name: str) -> None:
    head = file.read(CHUNK)
    if head.startswith(GZIP):
        _gunzip(head, file, local, megabytes, name)
        with local.open("rb") as fh:
            head = fh.read(HEAD)  # what was compressed is judged, not the gzip around it
    problem = _not_text(head[:HEAD], name)
    if problem is not None:
        raise problem  # before copying what is plainly not predictions
    if not local.exists():
        _copy(head, file, local, megabytes, name)


def _copy(head: bytes, file: BinaryIO, local: Path, megabytes: int, name: str) -> None:
    limit = megabytes * MB
    copied = 0
    with local.open("wb") as out:
        chunk = head
        while chunk:
            copied += len(chunk)
            if copied > limit:
                raise TooLarge(
                    Message("{file}: the file is larger than {mb} MB", file=name, mb=megabytes)
                )
            out.write(chunk)
            chunk = file.read(CHUNK)


def _gunzip(head: bytes, file: BinaryIO, local: Path, megabytes: int, name: str) -> None:
    """Decompress as it streams, producing at most the limit plus one byte: a small file that
    would expand to gigabytes (a gzip bomb) is refused after that much."""
    limit = megabytes * MB
    written = 0
    unpack = zlib.decompressobj(wbits=31)  # 31: the gzip format, header and checksum
    with local.open("wb") as out:
        chunk = head
        while chunk:
            data = chunk
            while data:
                try:
                    piece = unpack.decompress(data, limit + 1 - written)
                except zlib.error as exc:
                    raise InputError(
                        Message("not valid gzip data ({detail})", detail=str(exc)), file=name
                    ) from None
                written += len(piece)
                if written > limit:
                    raise TooLarge(
                        Message(
                            "{file}: the file is larger than {mb} MB decompressed",
                            file=name,
                            mb=megabytes,
                        )
                    )
                out.write(piece)
                data = unpack.unconsumed_tail
                if unpack.eof and unpack.unused_data:  # another gzip member follows
                    data = unpack.unused_data
                    if not data.startswith(GZIP):
                        raise InputError(
                            Message("data after the end of the gzip stream"), file=name
                        )
                    unpack = zlib.decompressobj(wbits=31)
            chunk = file.read(CHUNK)
    if not unpack.eof:
        raise InputError(Message("the gzip data is cut short (an incomplete upload?)"), file=name)


def _not_text(head: bytes, name: str) -> InputError | None:
    """Why ``head`` cannot start a predictions file (UTF-8 JSON Lines or CSV), when it is
    plainly something else; None otherwise (the parsers then judge it line by line)."""
    for magic, what in MAGIC:
        if head.startswith(magic):
            fix = (
                Message("save the file as UTF-8")
                if "text" in what.template
                else Message("send the file itself")
            )
            template = "{what}, not a predictions file: {fix} (JSON Lines or CSV, or one gzip file)"
            return InputError(Message(template, what=what, fix=fix), file=name)
    if head.startswith(b"GGUF"):
        return InputError(
            Message("a GGUF model file, not predictions: submit it as a model"), file=name
        )
    if _is_pickle(head):
        return InputError(
            Message("a Python pickle, never loaded here: send JSON Lines or CSV"), file=name
        )
    if len(head) > 262 and head[257:262] == b"ustar":
        return InputError(
            Message("a tar archive, not a predictions file: send the file itself"), file=name
        )
    nul = head.find(b"\x00")
    if nul < 0:
        return None
    if max(head[::2].count(0), head[1::2].count(0)) > len(head) // 4:
        return InputError(
            Message("UTF-16 text (no byte order mark): save the file as UTF-8"), file=name
        )
    line = head[:nul].count(b"\n") + 1
    return InputError(
        Message("a NUL byte: predictions are UTF-8 text, not binary"), file=name, line=line
    )


def _is_pickle(head: bytes) -> bool:
    return len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5  # PROTO opcode


def _check_model(local: Path, name: str) -> None:
    """Say what a model file is when it is plainly another format; the service then checks
    the GGUF header itself (and refuses pickle-based checkpoints)."""
    with local.open("rb") as fh:
        head = fh.read(16)
    if len(head) > 9 and head[8:10] == b'{"':  # a little-endian length, then a JSON header
        raise InputError(
            Message("a safetensors file, not GGUF: convert the model to GGUF"), file=name
        )
    if head.startswith(GZIP):
        raise InputError(Message("gzip-compressed: send the GGUF model file itself"), file=name)
