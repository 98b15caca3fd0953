"""How a book is read aloud: the pauses a narrator leaves and the size of one request's text. A leaf of the
jobs package (the command line reads its defaults without loading the document readers)."""

from __future__ import annotations

from dataclasses import dataclass

from kokoro_speech.errors import InvalidParameter

MAX_PIECE_CHARACTERS = 4096  # what one speech request may hold


@dataclass(frozen=True)
class Narration:
    """How the book is read; the defaults are a listener's: a clear breath after a title, a short one between
    paragraphs, a longer silence between chapters."""

    title_pause: float = 1.2  # after a chapter's title
    heading_pause: float = 0.9  # after a heading inside a chapter
    paragraph_pause: float = 0.6  # between paragraphs (a sentence gets 0.3)
    scene_pause: float = 1.5  # at a scene break (* * *, <hr>)
    chapter_pause: float = 2.0  # at the end of each chapter
    read_titles: bool = True
    piece_characters: int = 1500  # the text of one request; a resumed book redoes at most one piece in flight

    def __post_init__(self) -> None:
        for name in ("title_pause", "heading_pause", "paragraph_pause", "scene_pause", "chapter_pause"):
            if not 0 <= getattr(self, name) <= 10:
                raise InvalidParameter(f"{name} must be between 0 and 10 seconds", param=name)
        if not 200 <= self.piece_characters <= MAX_PIECE_CHARACTERS - 200:
            raise InvalidParameter(f"piece_characters must be between 200 and {MAX_PIECE_CHARACTERS - 200}",
                                   param="piece_characters")
