"""Figures for ``bench/RELIABILITY.md``: a 2 GB predictions upload streamed to a live uvicorn
server, chunked and with its Content-Length, under the tests' limits and the defaults; how much
the application read before the 413, and how long the refusal took. Also the corpus's size.

    .venv/bin/python -m tests.security.measure
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.security.conftest import make_server, serving
from tests.security.corpus import endless_body, model_cases, prediction_cases
from tests.security.stream import multipart, upload

from palmares.web import Settings

TWO_GB = 2 << 30


def main() -> None:
    print(f"corpus: {len(prediction_cases())} predictions files, {len(model_cases())} model files")
    defaults = Settings()
    for upload_mb, model_mb in ((1, 2), (defaults.max_upload_mb, defaults.max_model_mb)):
        folder = Path(tempfile.mkdtemp(prefix="palmares-measure-"))
        server = make_server(f"sqlite:///{folder / 'p.db'}", folder, upload_mb, model_mb)
        with serving(server) as live:
            auth = {"Authorization": f"Bearer {live.token}"}
            for declared in (None, TWO_GB):
                live.body_bytes.clear()
                body = multipart("huge.jsonl", endless_body(TWO_GB))
                path = "/api/campaigns/1/tasks/avis-fr/submissions"
                wait = 2.0 if declared else 0.0
                out = upload(live.url, path, body, headers=auth, declared=declared, patience=wait)
                how = "Content-Length: 2 GB" if declared else "chunked"
                print(
                    f"max_upload_mb={upload_mb} max_model_mb={model_mb}, {how}: {out.status}; "
                    f"application read {max(live.body_bytes, default=0):,} B "
                    f"(limit {upload_mb << 20:,} B + 64 kB form); client sent {out.sent:,} B; "
                    f"refused in {out.seconds:.3f} s; left behind: {live.stored()}"
                )


if __name__ == "__main__":
    main()
