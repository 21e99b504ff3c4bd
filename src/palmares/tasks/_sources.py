"""Where a task's data comes from: its public source (a URL, a hub id) or a local data folder.

A task names its public source in ``dataset.path`` / ``dataset.splits``: a file next to the task,
a URL (downloaded once into ``~/.cache/palmares/downloads``, ``$XDG_CACHE_HOME`` honoured), or,
for remote formats (``hf``…), an identifier the loader resolves itself. Its optional
``dataset.local`` names a copy under a *data folder* given at run time, laid out like the
project's ``shared/data``: ``PALMARES_DATA_DIR`` or ``--data-dir``. When a data folder is given
and the task has ``local``, the copy is read and the network is never used.

A source that cannot be reached raises :class:`SourceUnreachable`; the task adds the fix (set
``PALMARES_DATA_DIR`` or pass ``--data-dir``) to its message.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from palmares.core import InputError

#: the environment variable naming the data folder
DATA_DIR_ENV = "PALMARES_DATA_DIR"
#: seconds before an unanswered download gives up
TIMEOUT_S = 60.0


class SourceUnreachable(InputError):
    """The public source of a dataset cannot be reached (no network, offline mode, server down)."""


def data_dir_from_env() -> Path | None:
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def is_url(location: str) -> bool:
    return location.startswith(("https://", "http://"))


def download_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or "~/.cache"
    return Path(base).expanduser() / "palmares" / "downloads"


def cached_path(url: str) -> Path:
    """Where ``url`` is kept once downloaded: one folder per URL, the file under its own name."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]
    name = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name or "data"
    return download_cache() / digest / name


def fetch(url: str) -> Path:
    """The local file of ``url``, downloaded on first use (atomically: a failed download leaves
    nothing behind). Network failures raise :class:`SourceUnreachable`."""
    target = cached_path(url)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".part-", dir=target.parent)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "palmares"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=TIMEOUT_S) as r:
            shutil.copyfileobj(r, out)
        os.replace(tmp, target)
    except urllib.error.HTTPError as exc:
        raise InputError(f"cannot download: HTTP {exc.code} {exc.reason}", file=url) from None
    except OSError as exc:  # URLError, timeouts, refused connections, DNS failures
        reason = getattr(exc, "reason", None) or exc
        raise SourceUnreachable(f"cannot download ({reason})", file=url) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def unreachable_hint(task_id: str, source: str, local: str | None) -> str:
    """The message when a task's public source cannot be reached and no data folder is given."""
    where = f" (this task reads {local} there)" if local else ""
    return (
        f"task {task_id!r}: its public source {source} cannot be reached (no network, or "
        "offline mode), and no local data folder is given: set PALMARES_DATA_DIR, or pass "
        f"--data-dir, to a folder laid out like shared/data{where}"
    )
