"""Size limits enforced while the body streams, through a real uvicorn server on 127.0.0.1:
a 2 GB upload (made by a generator, never held or written) is refused with 413 after the
server has read about the limit, not 2 GB; one that announces its size is refused before any
of its body is read; a Content-Length that lies gets a 4xx; the server still works after."""

from __future__ import annotations

import json

from tests.security.conftest import Server
from tests.security.corpus import GOOD, LIMIT_MB, MODEL_LIMIT_MB, endless_body
from tests.security.stream import multipart, upload

from palmares.web.limits import FORM_OVERHEAD, MB

TWO_GB = 2 * 1024 * MB
#: the most body bytes a predictions upload may have: the file's limit, and the form around it
ROUTE_LIMIT = LIMIT_MB * MB + FORM_OVERHEAD
#: the most one message from uvicorn may carry: what it buffered, up to its 64 kB high-water
#: mark, plus one read of the socket (asyncio reads 256 kB at a time)
ONE_READ = (64 + 256) * 1024
API = "/api/campaigns/1/tasks/avis-fr/submissions"
NOTHING = {"submissions": 0, "jobs": 0, "quota used": 0, "artifact files": 0}


def _auth(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token}"}


def _message(reply: bytes) -> str:
    body = reply.partition(b"\r\n\r\n")[2]
    return str(json.loads(body)["message"])


def test_a_streamed_2_gb_upload_is_refused_near_the_limit(live: Server) -> None:
    body = multipart("huge.jsonl", endless_body(TWO_GB))
    out = upload(live.url, API, body, headers=_auth(live))
    assert out.status == 413, out.reply[:300]
    assert f"larger than the {LIMIT_MB} MB allowed for a predictions file" in _message(out.reply)
    read = max(live.body_bytes)
    # the application was handed at most one message past the limit; the client could push
    # a few MB more into the sockets' buffers before the refusal reached it
    assert ROUTE_LIMIT < read <= ROUTE_LIMIT + ONE_READ, read
    assert out.sent < ROUTE_LIMIT + 32 * MB, out.sent
    assert live.stored() == NOTHING


def test_a_model_file_is_held_to_its_own_limit(live: Server) -> None:
    """The form says ``kind=model_file`` before the file: the model's limit holds, not the
    predictions'; the file then goes to the GGUF checks (this one is no GGUF)."""
    api = "/api/campaigns/1/tasks/avis-chat/submissions"
    body = multipart("model.gguf", endless_body(TWO_GB), kind="model_file")
    out = upload(live.url, api, body, headers=_auth(live))
    assert out.status == 413, out.reply[:300]
    assert f"larger than the {MODEL_LIMIT_MB} MB allowed for a model" in _message(out.reply)
    assert (
        MODEL_LIMIT_MB * MB < max(live.body_bytes) <= MODEL_LIMIT_MB * MB + FORM_OVERHEAD + ONE_READ
    )
    # a model file between the two limits passes the stream's limit and meets the checks
    out = upload(
        live.url,
        api,
        multipart("m.gguf", endless_body(LIMIT_MB * MB + 1), "model_file"),
        headers=_auth(live),
    )
    assert out.status == 400 and "not a GGUF model file" in _message(out.reply), out.reply[:300]
    assert live.stored() == NOTHING


def test_an_announced_2_gb_upload_is_refused_before_its_body_is_read(live: Server) -> None:
    body = multipart("huge.jsonl", endless_body(TWO_GB))
    out = upload(live.url, API, body, headers=_auth(live), declared=TWO_GB, patience=5.0)
    assert out.status == 413 and out.sent == 0, (out.status, out.sent)
    assert b"connection: close" in out.reply.lower()
    assert live.body_bytes == [0]  # the application read none of it
    assert live.stored() == NOTHING


def test_the_submit_page_refuses_with_an_html_page(live: Server) -> None:
    body = multipart("huge.jsonl", endless_body(TWO_GB))
    out = upload(live.url, "/campaigns/1/tasks/avis-fr/submit", body)
    assert out.status == 413, out.reply[:300]
    head, _, page = out.reply.partition(b"\r\n\r\n")
    assert b"text/html" in head.lower() and b"content-security-policy" in head.lower()
    # the page is French (the API's English is checked above)
    said = f"dépasse les {LIMIT_MB} Mo permis pour un fichier de prédictions"
    assert said.encode() in page
    assert max(live.body_bytes) <= ROUTE_LIMIT + ONE_READ
    assert live.stored() == NOTHING


def test_a_lying_content_length_is_refused_and_the_server_goes_on(live: Server) -> None:
    # announces 1,000 bytes, sends 3 MB: the server reads the 1,000 (a cut form) and no more
    body = multipart("short.jsonl", endless_body(3 * MB))
    out = upload(live.url, API, body, headers=_auth(live), declared=1000)
    assert out.status is not None and 400 <= out.status < 500, out.reply[:300]
    assert max(live.body_bytes) <= 1000
    # a small file under other limits: refused by the route's own limit on other requests
    out = upload(live.url, "/api/systems", endless_body(3 * MB), headers=_auth(live))
    assert out.status == 413 and "larger than the 2 MB" in _message(out.reply)
    assert live.stored() == NOTHING
    # the server still serves, and takes a good file
    out = upload(live.url, API, multipart("good.jsonl", [GOOD]), headers=_auth(live))
    assert out.status == 201, out.reply[:300]
    assert live.stored()["submissions"] == 1
