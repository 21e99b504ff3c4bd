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

    def put_file(self, source: str | Path) -> str:
        data = Path(source).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        return digest
