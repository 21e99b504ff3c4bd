"""Content-addressed artifact directory: ``objects/ab/cdef…`` named by SHA-256, immutable.

A file is written to a temporary name and renamed into place, so a reader never sees half a
file; writing the same content twice is a no-op. An object stored by an action that then fails
is harmless: nothing refers to it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class Artifacts:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / "objects" / digest[:2] / digest[2:]

    def put(self, source: str | Path) -> tuple[str, bool]:
        """Store ``source``; its digest, and whether this call wrote it (False: it was there).
        Hashed while it is copied, in chunks: a model file is never held in memory whole."""
        staging = self.root / "objects" / "tmp"
        staging.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=staging, prefix=".tmp-")
        sha = hashlib.sha256()
        try:
            with open(source, "rb") as src, os.fdopen(fd, "wb") as fh:
                while chunk := src.read(1 << 20):
                    sha.update(chunk)
                    fh.write(chunk)
            digest = sha.hexdigest()
            target = self.path(digest)
            if target.exists():
                return digest, False
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
            return digest, True
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def discard(self, digest: str) -> None:
        """Remove an object this action wrote and that nothing refers to (its action failed)."""
        self.path(digest).unlink(missing_ok=True)
