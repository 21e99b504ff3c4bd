"""The ``palmares`` command. Bad input exits with status 2 and a ``file:line: field: problem``."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from palmares._version import __version__
from palmares.core import InputError
from palmares.core.requests import BackendError

F = TypeVar("F", bound=Callable[..., Any])


def reports_input_errors(fn: F) -> F:
    """Turn an :class:`InputError` into a one-line message on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except BackendError as exc:  # the model failed; finished answers are in the cache
            click.echo(f"error: model: {exc}", err=True)
            sys.exit(1)
        except ImportError as exc:  # an optional extra is missing: the message names the fix
            if "palmares[" not in str(exc):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _show_library_log(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:  # read by the llama backend at each model load (backends.llama.LOG_ENV)
        os.environ["PALMARES_LLAMA_LOG"] = "stderr"


#: ``--verbose``: the model libraries' own log (llama.cpp's) on stderr; without it, it is dropped
#: (or appended to the file named by ``$PALMARES_LLAMA_LOG``)
verbose_option = click.option(
    "--verbose",
    "-v",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_library_log,
    help="show the log of the model libraries (llama.cpp) on stderr; without it the log is "
    "dropped, or appended to the file $PALMARES_LLAMA_LOG names",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="palmares")
@verbose_option
def cli() -> None:
    """Palmarès — evaluation challenges for AI systems, with honest confidence intervals."""


def main() -> None:
    from palmares.cli import _campaign, _demo, _eval, _invitations, _tasks  # noqa: F401  (registers)

    cli()
