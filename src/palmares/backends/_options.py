"""Helpers shared by backends: typed options from ``--model-arg key=value``, install hints."""

from __future__ import annotations

from palmares.core import InputError


def _get(options: dict[str, str], key: str) -> str | None:
    return options.pop(key, None)


def option_int(options: dict[str, str], key: str, default: int, minimum: int = 0) -> int:
    raw = _get(options, key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"must be an integer, got {raw!r}", field=f"model-arg {key}") from None
    if value < minimum:
        raise InputError(f"must be at least {minimum}, got {value}", field=f"model-arg {key}")
    return value


def option_float(options: dict[str, str], key: str, default: float) -> float:
    raw = _get(options, key)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise InputError(f"must be a number, got {raw!r}", field=f"model-arg {key}") from None


def option_bool(options: dict[str, str], key: str, default: bool) -> bool:
    raw = _get(options, key)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise InputError(f"must be true or false, got {raw!r}", field=f"model-arg {key}")


def reject_unknown(options: dict[str, str], backend: str) -> None:
    if options:
        raise InputError(
            f"backend {backend!r} takes no option {sorted(options)[0]!r}", field="model-arg"
        )


def missing_extra(package: str, extra: str) -> ImportError:
    """The error for an optional dependency that is not installed, naming the fix."""
    return ImportError(
        f'{package} is not installed; install it with: pip install "palmares[{extra}]"'
    )
