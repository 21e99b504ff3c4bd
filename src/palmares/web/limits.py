"""How large a request may be, enforced while its body streams in.

Starlette parses a multipart form (spooling every file to disk) before a route's code runs, so a
check in the route comes after the whole body was read: a 2 GB upload would be read, and
written, in full before being refused. :class:`BodyLimit` is a plain ASGI middleware in front of
everything: it refuses a request whose ``Content-Length`` announces too much before reading any
of it, and counts the bytes of a body that streams (chunked, or sent by a client that does not
say its length), refusing with 413 the moment the count passes the limit. The server then reads
no more of that request and closes the connection.

On the upload routes the limit depends on the kind of file, a form field: it is read from
the start of the form as it streams (browsers and HTTP clients send fields before files). Until
the file's part begins, the larger limit holds; a file sent before any ``kind`` field is a
predictions file, as the route takes it. :func:`palmares.web.uploads.receive` then holds the
file itself, without the form around it, to the same limit. Every other request is a small form
or JSON object.
"""

from __future__ import annotations

import re

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from palmares.core import Message as Text
from palmares.web.errors import PageRenderer, error_response

MB = 1024 * 1024
#: room for a multipart form's boundaries, headers and small fields around the file itself
FORM_OVERHEAD = 64 * 1024
#: any request that is not an upload: forms, JSON, a campaign YAML (1 MB at most) sent as a file
SMALL = 2 * MB
#: the routes that receive submitted files, on the API and on the submit page
UPLOAD_PATHS = re.compile(
    r"^(/api/campaigns/[^/]+/tasks/[^/]+/submissions|/campaigns/[^/]+/tasks/[^/]+/submit)/?$"
)


class TooLarge(HTTPException):
    """A request or an uploaded file larger than allowed (413): an ``HTTPException``, so that
    the application's error handlers show it as JSON on ``/api`` and as a page elsewhere."""

    def __init__(self, message: str | Text) -> None:
        self.message = message if isinstance(message, Text) else None
        super().__init__(status_code=413, detail=str(message))


#: a part of a multipart form: the ``kind`` field's value, and the start of a file
_KIND = re.compile(rb'name="kind"\r\n(?:[^\r\n]+\r\n)*\r\n([a-z_]{1,20})\r\n', re.IGNORECASE)
_FILE = re.compile(rb"content-disposition:[^\r\n]*filename", re.IGNORECASE)
#: how much of a form's start is searched for its kind
_KIND_WITHIN = 64 * 1024


def too_large_message(limit: int, what: Text | str = "") -> Text:
    shown = (
        Text("{n} MB", n=f"{limit / MB:.0f}") if limit >= MB else Text("{n} kB", n=limit // 1024)
    )
    return Text(
        "the request is larger than the {size} {what}: send a smaller file",
        size=shown, what=what or Text("this address accepts"),
    )  # fmt: skip


class _Limit:
    """The limit of one request's body: the route's, narrowed to the kind of file once the form
    says it."""

    def __init__(self, path: str, upload_bytes: int, model_bytes: int) -> None:
        self.upload = UPLOAD_PATHS.match(path) is not None
        self.sizes = {"predictions": upload_bytes, "model_file": model_bytes}
        self.shown = max(upload_bytes, model_bytes) if self.upload else SMALL  # the file's limit
        self.bytes = self.shown + FORM_OVERHEAD if self.upload else SMALL  # the whole body's
        self.what = Text("this address accepts")
        self._head: bytes | None = b"" if self.upload else None  # None: the kind is known

    def feed(self, chunk: bytes) -> None:
        if self._head is None or len(self._head) >= _KIND_WITHIN:
            return
        self._head += chunk[: _KIND_WITHIN - len(self._head)]
        found, file = _KIND.search(self._head), _FILE.search(self._head)
        if found is not None and (file is None or found.start() < file.start()):
            kind = found.group(1).decode()
        elif file is not None:
            kind = "predictions"  # the route's default: a kind sent after the file is too late
        else:
            return
        self._head = None
        if kind in self.sizes:
            self.shown = self.sizes[kind]
            self.bytes = self.shown + FORM_OVERHEAD
            self.what = Text("allowed for a model file") if kind == "model_file" else Text(
                "allowed for a predictions file (for a model, send the kind before the file)"
            )  # fmt: skip


class BodyLimit:
    """Refuse (413) a request body over its limit, before or while it is read."""

    def __init__(
        self, app: ASGIApp, *, upload_bytes: int, model_bytes: int, page: PageRenderer | None = None
    ) -> None:
        self.app = app
        self.upload_bytes, self.model_bytes = upload_bytes, model_bytes
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = _Limit(scope["path"], self.upload_bytes, self.model_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit.bytes:
            await self._refuse(scope, send, limit)  # not one byte of the body is read
            return
        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                limit.feed(body)
                received += len(body)
                if received > limit.bytes:
                    over = True
                    raise TooLarge(too_large_message(limit.shown, limit.what))
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the application's own answer to the refusal: ours replaces it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over and not started:
            await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: _Limit) -> None:
        message = too_large_message(limit.shown, limit.what)
        hint = "send a smaller file, or compress predictions with gzip (.jsonl.gz, .csv.gz)"
        # in a thread: a page looks its visitor up in the database
        response: Response = await run_in_threadpool(
            error_response, Request(scope), self.page, 413, "too_large", message, hint
        )
        # the rest of the body is never read: the connection cannot carry another request
        response.headers["Connection"] = "close"
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server itself refuses a malformed length
    return None
