"""Endpoint credentials encrypted at rest (Fernet: AES-128-CBC with an HMAC-SHA256 tag).

A team's API key for its endpoint is sealed before it reaches the database, and opened only
by the worker that queries the endpoint; no response, page or log returns it. A copy of the
database (a backup, a dump handed to an auditor) holds ciphertext only.

The key comes from ``$PALMARES_SECRET_KEY`` (a deployment's secret store), else from
``<artifacts>/keys/credentials.key``, made on first use with mode 0600: the server and the
workers share the artifacts folder already, and the database never holds the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from palmares.core import PalmaresError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

KEY_ENV = "PALMARES_SECRET_KEY"
KEY_FILE = Path("keys") / "credentials.key"
#: marks a sealed value; a stored value without it predates encryption and is used as it is
PREFIX = "fernet:"


class CredentialError(PalmaresError):
    """A sealed credential that this key cannot open (the key changed, or the row was altered)."""


class Vault:
    def __init__(self, key: bytes) -> None:
        from cryptography.fernet import Fernet

        self._fernet: Fernet = Fernet(key)

    @classmethod
    def for_artifacts(cls, root: str | Path) -> Vault:
        """The deployment's vault: the key from the environment, else the key file under the
        artifacts folder ``root`` (created when missing)."""
        from_env = os.environ.get(KEY_ENV)
        if from_env:
            return cls(from_env.encode())
        return cls(_key_file(Path(root) / KEY_FILE))

    def seal(self, secret: str) -> str:
        return PREFIX + self._fernet.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise CredentialError(
                "the endpoint's API key cannot be decrypted with this server's key "
                f"(${KEY_ENV} or {KEY_FILE} changed?): submit the endpoint again"
            ) from None


def _key_file(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    from cryptography.fernet import Fernet

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Fernet.generate_key()
    # written whole under a temporary name, then linked into place: a process starting at the
    # same time either sees no file or the whole key, and both end up with the same one
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    try:
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_bytes().strip()
    finally:
        tmp.unlink()
    return key
