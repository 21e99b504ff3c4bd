"""Path and query parameters shared by the routers, bounded where the database has bounds.

Unbounded, a fuzzer's ``limit=9223372036854775808`` overflows SQLite's integers, an id past
2³¹ − 1 overflows PostgreSQL's ``integer`` columns, a negative offset is refused by PostgreSQL and
a NUL byte by PostgreSQL's text: each a 500. Bounded here, they are a 422 naming the parameter.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**31 - 1  # PostgreSQL's integer, the type of every integer id
NO_NUL = r"^[^\x00]*$"

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=1000)]
#: a page number of a paged HTML list
PageNo = Annotated[int, Query(ge=1, le=MAX_ID)]
Name = Annotated[str, Path(min_length=1, max_length=200, pattern=NO_NUL)]
