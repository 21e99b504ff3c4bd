"""Server settings, validated by pydantic-settings and passed in (never read at import time)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    #: sign-up attempts per client address per hour (a taken name counts too)
    signup_per_hour: int = Field(default=3, ge=1)
    #: how long a browser session lasts
    session_hours: float = 12.0
    #: send the session cookie over HTTPS only (set it behind TLS)
    secure_cookies: bool = False
    #: the folder that task paths of a campaign YAML sent from the organiser console start from
    tasks_dir: str = "."
    #: serve FastAPI's interactive API pages (/docs, /redoc): off by default, since they load
    #: their scripts from a CDN; /openapi.json is always served
    api_docs: bool = False
    #: the reverse proxies (addresses or networks, comma-separated in the environment) whose
    #: ``X-Forwarded-For`` names the client; from any other peer the header is ignored
    trusted_proxies: Annotated[list[str], NoDecode] = []

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
        return value

    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)
