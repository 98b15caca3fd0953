"""The benchmark's book: "The Keeper's Year", a lighthouse keeper's log in ten chapters, over 30,000 characters,
written for this project. Paragraphs are put together, with a fixed seed, from sentences written here, so the
book is long without being one paragraph said many times."""

from __future__ import annotations

import random

TITLE = "The Keeper's Year"

OPENINGS = [
    "The wind turned to the north before dawn, and the glass fell a little.",
    "I woke before the gulls and climbed the hundred and twelve steps with the oil can.",
    "Fog sat on the water all morning, so thick that the rocks below were only a sound.",
    "The supply boat was due, but the swell was too high for it to come alongside.",
    "A clear day at last, with the far hills showing blue along the mainland shore.",
    "Rain came in bands from the west, each one darker than the last.",
    "The lamp burned well through the night, and I trimmed the wick twice before four.",
    "I spent the first hours of the day writing up the weather for the harbour office.",
]
MIDDLES = [
    "Mrs. Hale's letter arrived with the bread, asking whether the old bell could be rung on Sunday.",
    "Two fishing boats passed close under the point, and the men raised their caps to the tower.",
    "I mended the rope on the landing stage, which the winter had worn down to a few threads.",
    "The brass of the lens needed polishing again; salt finds its way into everything here.",
    "A young seal lay on the flat rock by the cove, watching me as I carried the water up.",
    "The clock in the watch room lost four minutes this week, and I set it by the noon gun.",
    "I counted the ships that went by: three steamers, a schooner, and something low and grey.",
    "My brother writes that the town has a new school, with windows on both sides of every room.",
    "The paint on the gallery rail is flaking, and I have asked for two tins of white before spring.",
    "There were footprints on the beach that were not mine, though no boat had landed.",
    "I found a glass float among the weed, green as a bottle and not a crack in it.",
    "The cat has taken to sleeping in the lamp room, where the warm air rises from the burner.",
    "A heron stood in the shallows for an hour, so still that I took it for a post at first.",
    "The cistern is half full, enough for a month if the rain stays away.",
    "I read by the stove after supper, a book about the northern ice that the inspector left.",
    "The logbook from my first year is in the drawer, and the handwriting already looks young to me.",
]
CLOSINGS = [
    "By evening the sea had settled, and the light went out over it as steady as a heartbeat.",
    "I lit the lamp at twenty past five and watched the beam find the buoy on its first turn.",
    "Nothing else to report, except that the kettle has started to leak again.",
    "The night was quiet; only the bell buoy spoke, far out, every few seconds.",
    "I went to bed late, with the sound of the rain on the tower like sand thrown at glass.",
    "Before I slept I looked out once more: one ship's light to the south, moving slowly east.",
]
CHAPTERS = [
    ("Winter Arrives", 1_500),
    ("The Broken Pane", 3_500),
    ("Letters from Town", 3_500),
    ("The Seal", 700),
    ("A Visitor", 700),
    ("Spring Paint", 700),
    ("The Noon Gun", 700),
    ("The Long Storm", 6_900),
    ("Summer Evenings", 6_900),
    ("The Inspector's Visit", 6_900),
]


def paragraph(rng: random.Random, day: int) -> str:
    sentences = [f"Day {day}.", rng.choice(OPENINGS), *rng.sample(MIDDLES, rng.randint(2, 4)), rng.choice(CLOSINGS)]
    return " ".join(sentences)


def chapters(seed: int = 7) -> list[tuple[str, list[str]]]:
    """Each chapter's title and paragraphs, each chapter about as long as CHAPTERS says."""
    rng = random.Random(seed)
    day, book = 1, []
    for title, size in CHAPTERS:
        paragraphs: list[str] = []
        while sum(len(p) + 2 for p in paragraphs) < size:
            paragraphs.append(paragraph(rng, day))
            day += 1
        book.append((title, paragraphs))
    return book


def markdown(seed: int = 7) -> str:
    """The book as Markdown: a title, then one `##` heading per chapter."""
    parts = [f"# {TITLE}"]
    for title, paragraphs in chapters(seed):
        parts += [f"## {title}", *paragraphs]
    return "\n\n".join(parts) + "\n"


def plain(chapter: int, seed: int = 7) -> str:
    """One chapter (1-based) as a plain request would send it: its title, then its paragraphs."""
    title, paragraphs = chapters(seed)[chapter - 1]
    return "\n\n".join([f"{title}.", *paragraphs])
