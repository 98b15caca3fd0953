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

# One short sentence and one paragraph in each reading language (the voice letter's), for the mixed-language loads.
LANGUAGE_TEXTS: dict[str, tuple[str, str]] = {
    "e": ("La reunión empieza en diez minutos.",
          "El sendero de la montaña empieza junto al viejo molino y sube sin descanso por un bosque de pinos. "
          "Después de una hora, los árboles se abren y el camino llega a una cresta ancha desde la que se ve todo "
          "el valle. Casi todos los excursionistas se detienen allí a comer antes de volver a bajar."),
    "f": ("La réunion commence dans dix minutes.",
          "Le sentier de la montagne part du vieux moulin et monte sans relâche à travers une forêt de pins. Au "
          "bout d'une heure, les arbres s'espacent et le chemin débouche sur une large crête d'où l'on voit toute "
          "la vallée. La plupart des randonneurs s'y arrêtent pour déjeuner avant de redescendre."),
    "h": ("बैठक दस मिनट में शुरू होगी।",
          "पहाड़ का रास्ता पुरानी चक्की के पास से शुरू होता है और चीड़ के जंगल से होकर लगातार ऊपर चढ़ता है। लगभग एक "
          "घंटे बाद पेड़ कम हो जाते हैं और रास्ता एक चौड़ी चोटी पर खुलता है, जहाँ से पूरी घाटी दिखाई देती है। ज़्यादातर "
          "यात्री नीचे लौटने से पहले वहीं रुककर खाना खाते हैं।"),
    "i": ("La riunione inizia tra dieci minuti.",
          "Il sentiero di montagna parte vicino al vecchio mulino e sale senza sosta attraverso un bosco di pini. "
          "Dopo circa un'ora gli alberi si diradano e il sentiero si apre su un ampio crinale da cui si vede tutta "
          "la valle. Quasi tutti gli escursionisti si fermano lì per pranzare prima di tornare giù."),
    "p": ("A reunião começa em dez minutos.",
          "A trilha da montanha começa perto do velho moinho e sobe sem parar por uma floresta de pinheiros. "
          "Depois de mais ou menos uma hora, as árvores ficam mais raras e o caminho chega a uma crista larga de "
          "onde se vê o vale inteiro. A maioria dos caminhantes para ali para almoçar antes de descer."),
    "j": ("会議は十分後に始まります。",
          "山道は古い水車小屋の近くから始まり、松林の中をゆっくりと登っていきます。一時間ほど歩くと木々がまばらに"
          "なり、谷全体を見渡せる広い尾根に出ます。ほとんどの登山者はそこで昼食をとってから下山します。"),
    "z": ("会议十分钟后开始。",
          "山路从老磨坊附近开始，穿过松树林一路向上。走了大约一个小时以后，树木渐渐稀少，小路通向一条宽阔的山脊，"
          "从那里可以看到整个山谷。大多数登山的人都会在那里吃午饭，然后再下山。"),
}
