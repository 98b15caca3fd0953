"""GET /v1/download/{file}: the files kept by `return_download_link` (api/kept.py), as Kokoro-FastAPI serves them,
with a save-as name and Range requests, only to the key that made them."""

from __future__ import annotations

import re

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from kokoro_speech.api.policy import Owned, RoutePolicy, policy
from kokoro_speech.api.state import StateDep
from kokoro_speech.audio.encode import FORMATS

_SAVE_AS_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

router = APIRouter()


def save_as(requested: str | None, stored: str) -> str:
    """The name a browser saves the file as: the client's, made safe, always with the stored file's extension."""
    extension = stored[stored.index("."):]
    stem = _SAVE_AS_UNSAFE.sub("_", requested or "").removesuffix(extension).strip("._-")[:100]
    return f"{stem}{extension}" if stem else stored


@router.get("/v1/download/{filename}", response_class=FileResponse,
            responses={200: {"description": "The kept file (Range requests work)."}})
@policy(RoutePolicy(owned=Owned("file", "filename")))
async def download(filename: str, state: StateDep,
                   name: str | None = Query(None, description="The save-as name (made safe; its extension kept).")):
    """A file kept by `return_download_link` (Kokoro-FastAPI's route): only to the key that made it."""
    path = state.downloads.file(filename)
    media_type = "application/json" if filename.endswith(".json") else FORMATS[path.suffix[1:]].content_type
    return FileResponse(path, media_type=media_type, filename=save_as(name, filename),
                        headers={"Cache-Control": "no-store"})
