"""Server settings, validated by pydantic-settings and passed in (never read at import time)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """From ``PALMARES_DB`` and ``PALMARES_ARTIFACTS``, or given by ``palmares serve``."""

    model_config = SettingsConfigDict(env_prefix="PALMARES_")

    db: str = "sqlite:///palmares.db"
    artifacts: str = "artifacts"
    max_upload_mb: int = 200
