"""The demo challenge behind ``make demo`` (``palmares demo``)."""

from palmares.demo.build import CHALLENGE_TITLE, PASSWORD, Demo, build_demo

__all__ = ["CHALLENGE_TITLE", "PASSWORD", "Demo", "build_demo"]
