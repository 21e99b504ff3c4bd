"""Server settings, validated by pydantic-settings and passed in (never read at import time)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """From ``PALMARES_*`` environment variables, or given by ``palmares serve``."""

    model_config = SettingsConfigDict(env_prefix="PALMARES_")

    db: str = "sqlite:///palmares.db"
    artifacts: str = "artifacts"
    #: the largest predictions file accepted (MB), compressed or once decompressed
    max_upload_mb: int = 200
    #: the largest GGUF model file accepted (MB); a model is larger than its predictions
    max_model_mb: int = 512
    #: may visitors create their own participant account (with a new team)?
    signup: bool = True
    #: how long a browser session lasts
    session_hours: float = 12.0
    #: send the session cookie over HTTPS only (set it behind TLS)
    secure_cookies: bool = False
    #: the folder that task paths of a campaign YAML sent from the organiser console start from
    tasks_dir: str = "."
    #: serve FastAPI's interactive API pages (/docs, /redoc): off by default, since they load
    #: their scripts from a CDN; /openapi.json is always served
    api_docs: bool = False
