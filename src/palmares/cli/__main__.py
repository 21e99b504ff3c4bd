"""``python -m palmares.cli``: the same as the ``palmares`` command."""

from palmares.cli import main

main()
