"""The fixed benchmark texts: twenty, from one short sentence to a long paragraph."""

from __future__ import annotations

from pathlib import Path

TEXTS: list[str] = [
    "Hello there.",
    "The meeting starts in ten minutes.",
    "Please remember to water the plants before you leave for the weekend.",
    "I checked the forecast this morning, and it looks like rain will arrive by the afternoon.",
    "Turn left at the next light. Then keep going straight until you see the bakery on your right.",
    "Thanks for calling. All of our agents are busy right now, but your call is important to us.",
    "The library will be closed on Monday for repairs. It reopens on Tuesday at nine in the morning.",
    "Good evening. Here is a summary of today's news, starting with the weather and the traffic.",
    "When the train finally pulled into the station, the platform was nearly empty and the lights "
    "flickered overhead.",
    "Your order has shipped. It should arrive within three to five business days, and you can track it "
    "from your account page at any time.",
    "She opened the old wooden box slowly. Inside, wrapped in a faded blue scarf, was a stack of letters "
    "tied together with string.",
    "To reset your password, open the settings menu, choose security, and follow the instructions on the "
    "screen. You will receive a confirmation message when it is done.",
    "Photosynthesis is the process by which plants use sunlight, water, and carbon dioxide to make their "
    "own food. It releases oxygen as a by-product, which most living things need to survive.",
    "The committee reviewed every proposal carefully. After a long discussion, they agreed to fund the "
    "two projects that would help the most people in the shortest time.",
    "If you are feeling tired in the afternoon, try taking a short walk outside. A few minutes of fresh "
    "air and daylight can make a surprising difference to how alert you feel.",
    "The museum's new exhibit covers three centuries of maritime history. Visitors can walk through a "
    "full-size replica of a merchant ship, complete with cargo, maps, and the captain's cabin.",
    "Cooking rice properly takes a little patience. Rinse it first, use the right amount of water, and "
    "resist the urge to lift the lid while it simmers. Let it rest for five minutes before serving.",
    "Our quarterly results were stronger than expected. Revenue grew across every region, customer "
    "satisfaction reached a record high, and we hired more than two hundred new people to keep up with "
    "demand.",
    "The mountain trail begins near the old mill and climbs steadily through pine forest. After about an "
    "hour, the trees thin out and the path opens onto a wide ridge with views across the whole valley. "
    "Most hikers stop there for lunch before heading back down.",
    (Path(__file__).resolve().parents[1] / "tests" / "long_text.txt").read_text().split("\n\n")[3],
]

LONG_TEXT: str = (Path(__file__).resolve().parents[1] / "tests" / "long_text.txt").read_text().strip()
