"""Command line: ``palmares eval``, ``palmares tasks …``, ``palmares metrics``."""

from palmares.cli._main import cli, main

__all__ = ["cli", "main"]
