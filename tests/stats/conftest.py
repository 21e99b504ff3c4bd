"""The statistical tests run thousands of small matrix products (a few hundred simulated
datasets, each bootstrapped): with a multi-threaded BLAS, waking threads costs more than the
product itself, 8× more on the 2-core machine, worse under load. One BLAS thread per test
process (pytest -n 2 keeps both cores busy anyway)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

try:  # comes with scikit-learn (dev extra)
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - only slower without it
    threadpool_limits = None


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread() -> Iterator[None]:
    if threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
