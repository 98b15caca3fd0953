"""Word lists for the rules: units, currencies, abbreviations, acronyms, months, weekdays, names that take numerals,
and the words around a number that make it a year, a count, an identifier or a version."""

from __future__ import annotations

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
MONTH_ABBREVIATIONS = {
    "Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Sept": 9,
    "Oct": 10, "Nov": 11, "Dec": 12,
}
MONTH_NUMBERS = {name: i + 1 for i, name in enumerate(MONTHS)} | MONTH_ABBREVIATIONS

# symbol → (singular, plural); American spelling (British: metre, litre are derived)
UNITS: dict[str, tuple[str, str]] = {
    # length
    "mm": ("millimeter", "millimeters"), "cm": ("centimeter", "centimeters"), "m": ("meter", "meters"),
    "km": ("kilometer", "kilometers"), "nm": ("nanometer", "nanometers"), "µm": ("micrometer", "micrometers"),
    "μm": ("micrometer", "micrometers"), "ft": ("foot", "feet"), "mi": ("mile", "miles"),
    "yd": ("yard", "yards"), "yds": ("yard", "yards"),
    # mass
    "mg": ("milligram", "milligrams"), "g": ("gram", "grams"), "kg": ("kilogram", "kilograms"),
    "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"), "oz": ("ounce", "ounces"),
    # volume
    "ml": ("milliliter", "milliliters"), "mL": ("milliliter", "milliliters"), "l": ("liter", "liters"),
    "L": ("liter", "liters"), "cl": ("centiliter", "centiliters"), "gal": ("gallon", "gallons"),
    "fl oz": ("fluid ounce", "fluid ounces"), "tbsp": ("tablespoon", "tablespoons"), "tsp": ("teaspoon", "teaspoons"),
    # time
    "ms": ("millisecond", "milliseconds"), "µs": ("microsecond", "microseconds"),
    "μs": ("microsecond", "microseconds"), "ns": ("nanosecond", "nanoseconds"),
    "s": ("second", "seconds"), "sec": ("second", "seconds"), "secs": ("second", "seconds"),
    "min": ("minute", "minutes"), "mins": ("minute", "minutes"), "h": ("hour", "hours"),
    "hr": ("hour", "hours"), "hrs": ("hour", "hours"),
    "yr": ("year", "years"), "yrs": ("year", "years"), "wk": ("week", "weeks"), "wks": ("week", "weeks"),
    # speed
    "mph": ("mile per hour", "miles per hour"), "kph": ("kilometer per hour", "kilometers per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"), "m/s": ("meter per second", "meters per second"),
    # frequency, electricity, power, sound
    "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"), "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"), "V": ("volt", "volts"), "mV": ("millivolt", "millivolts"),
    "kV": ("kilovolt", "kilovolts"), "A": ("amp", "amps"), "mA": ("milliamp", "milliamps"),
    "mAh": ("milliamp hour", "milliamp hours"), "W": ("watt", "watts"), "kW": ("kilowatt", "kilowatts"),
    "MW": ("megawatt", "megawatts"), "GW": ("gigawatt", "gigawatts"), "kWh": ("kilowatt hour", "kilowatt hours"),
    "dB": ("decibel", "decibels"), "cal": ("calorie", "calories"), "kcal": ("kilocalorie", "kilocalories"),
    # data
    "B": ("byte", "bytes"), "KB": ("kilobyte", "kilobytes"), "kB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"), "GB": ("gigabyte", "gigabytes"), "TB": ("terabyte", "terabytes"),
    "PB": ("petabyte", "petabytes"), "KiB": ("kibibyte", "kibibytes"), "MiB": ("mebibyte", "mebibytes"),
    "GiB": ("gibibyte", "gibibytes"), "TiB": ("tebibyte", "tebibytes"), "kb": ("kilobit", "kilobits"),
    "Mb": ("megabit", "megabits"), "Gb": ("gigabit", "gigabits"),
    "kbps": ("kilobit per second", "kilobits per second"), "Kbps": ("kilobit per second", "kilobits per second"),
    "Mbps": ("megabit per second", "megabits per second"), "Gbps": ("gigabit per second", "gigabits per second"),
    "MB/s": ("megabyte per second", "megabytes per second"), "GB/s": ("gigabyte per second", "gigabytes per second"),
    "px": ("pixel", "pixels"), "fps": ("frame per second", "frames per second"),
    "rpm": ("revolution per minute", "revolutions per minute"),
    "RPM": ("revolution per minute", "revolutions per minute"),
    # temperature and angles
    "°C": ("degree Celsius", "degrees Celsius"), "℃": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"), "℉": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"), "K": ("kelvin", "kelvins"),
    "m²": ("square meter", "square meters"), "km²": ("square kilometer", "square kilometers"),
    "cm²": ("square centimeter", "square centimeters"), "ft²": ("square foot", "square feet"),
    "mi²": ("square mile", "square miles"), "m³": ("cubic meter", "cubic meters"),
    "cm³": ("cubic centimeter", "cubic centimeters"), "sq ft": ("square foot", "square feet"),
    "%": ("percent", "percent"), "‰": ("per mille", "per mille"),
}
# unit symbols read without a number in front of them (unambiguous mixed case)
BARE_UNITS = ("kHz", "MHz", "GHz", "km/h", "kWh", "mAh", "Mbps", "Gbps", "kbps", "°C", "°F", "℃", "℉", "MB/s", "GB/s")

# capitals that are units only when spaced from the number and with no period after: "5 V", not "5V" or "Plan B."
UNITS_NEED_SPACE = {"K", "A", "B", "V", "W"}

CURRENCY_SYMBOLS: dict[str, tuple[str, str, str, str]] = {
    # symbol → (unit, units, sub-unit, sub-units)
    "$": ("dollar", "dollars", "cent", "cents"),
    "US$": ("US dollar", "US dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "", ""),
    "₹": ("rupee", "rupees", "paisa", "paise"),
    "₩": ("won", "won", "", ""),
    "₽": ("ruble", "rubles", "kopek", "kopeks"),
    "₿": ("bitcoin", "bitcoins", "", ""),
    "CHF": ("Swiss franc", "Swiss francs", "centime", "centimes"),
}
CURRENCY_CODES: dict[str, tuple[str, str]] = {
    "USD": ("US dollar", "US dollars"), "EUR": ("euro", "euros"), "GBP": ("pound", "pounds"),
    "JPY": ("yen", "yen"), "CAD": ("Canadian dollar", "Canadian dollars"),
    "AUD": ("Australian dollar", "Australian dollars"), "CHF": ("Swiss franc", "Swiss francs"),
    "INR": ("rupee", "rupees"), "CNY": ("yuan", "yuan"), "BTC": ("bitcoin", "bitcoins"),
}
SCALES = {
    "k": "thousand", "K": "thousand", "m": "million", "M": "million", "mn": "million", "b": "billion",
    "B": "billion", "bn": "billion", "T": "trillion", "tn": "trillion", "thousand": "thousand",
    "million": "million", "billion": "billion", "trillion": "trillion",
}

# abbreviation (as written, without its period) → expansion; read only when followed by a period
DOTTED_ABBREVIATIONS = {
    "etc": "et cetera", "e.g": "for example", "i.e": "that is", "eg": "for example", "ie": "that is",
    "vs": "versus", "approx": "approximately", "dept": "department", "Dept": "Department",
    "misc": "miscellaneous", "cf": "compare", "et al": "et al", "Inc": "Incorporated", "Ltd": "Limited",
    "Corp": "Corporation", "Bros": "Brothers", "govt": "government", "Govt": "Government",
    "est": "established", "Est": "Established", "avg": "average", "max": "maximum", "min": "minimum",
    "Jr": "Junior", "Sr": "Senior", "Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard", "Ln": "Lane",
    "Hwy": "Highway", "Pkwy": "Parkway", "Sq": "Square", "Mt": "Mount", "Prof": "Professor",
    "Gen": "General", "Capt": "Captain", "Lt": "Lieutenant", "Col": "Colonel", "Sgt": "Sergeant",
    "Rev": "Reverend", "Gov": "Governor", "Sen": "Senator", "Rep": "Representative", "Pres": "President",
    "Fr": "Father", "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Univ": "University", "Assoc": "Association",
    "Intl": "International", "intl": "international", "tel": "telephone", "Tel": "Telephone",
    "ext": "extension", "Ext": "Extension", "ca": "circa", "w/o": "without",
    "Ph.D": "P H D", "M.D": "M D", "B.A": "B A", "M.A": "M A", "B.Sc": "B S C", "M.Sc": "M S C",
}
# abbreviations that may end a sentence: their period is kept when a new sentence follows
SENTENCE_FINAL_ABBREVIATIONS = {
    "etc", "Inc", "Ltd", "Corp", "Bros", "Jr", "Sr", "Ave", "Rd", "Blvd", "Ln", "Hwy", "Pkwy", "Sq", "et al",
}
# also read without a period (British style "Dr Smith", "Mr Jones", "Main Rd")
UNDOTTED_ABBREVIATIONS = {"vs", "Mr", "Mrs", "Ms", "Prof", "Rd", "Ave", "Blvd", "Jr", "Sr", "Mt", "Hwy", "w/o"}
# before a number: "No. 5" → "number five"
NUMBER_ABBREVIATIONS = {
    "No": "number", "Nos": "numbers", "Fig": "figure", "fig": "figure", "Figs": "figures",
    "p": "page", "pp": "pages", "Vol": "volume", "vol": "volume", "Ch": "chapter", "ch": "chapter",
    "Sec": "section", "sec": "section", "Eq": "equation", "eq": "equation", "Art": "article", "Ex": "example",
    "Rm": "room", "Apt": "apartment", "Pt": "part",
}

# acronyms read as words that misaki would spell (or mispronounce): the spelling misaki reads right
WORD_ACRONYMS = {
    "JSON": "Jay-son", "JSONL": "Jay-son L", "YAML": "Yaml", "TOML": "Toml", "WASM": "Wasm", "NOAA": "Noah",
    "IKEA": "Ikea", "GIPHY": "Giphy", "GAAP": "Gap", "FEMA": "Feema", "TOEFL": "Toefl", "NGINX": "engine X",
    "Nginx": "engine X", "nginx": "engine X", "IEEE": "I triple E", "AAA": "triple A", "LaTeX": "Lay-tek",
    "PyPI": "Pie P I", "SQLite": "sequel light", "MySQL": "my sequel", "PostgreSQL": "Postgres",
    "GUID": "goo-id", "UUID": "U U I D", "NaN": "not a number", "CAPTCHA": "captcha", "SCSI": "scuzzy",
    "WAV": "wave", "JPG": "Jay-peg", "JPEG": "Jay-peg", "GIF": "gif", "DAO": "dow", "OPEX": "Opex",
    "CAPEX": "Capex", "MOOC": "mooc", "NIMBY": "nimby", "SARS": "Sars", "MERS": "Murs", "GIS": "G I S",
    "ASCII": "askey", "UNIX": "Unix", "LINUX": "Linux", "POSIX": "Posix", "GNU": "G N U", "PhD": "P H D",
    "NASA": "Nasa", "NATO": "Nato", "UNESCO": "Unesco", "UNICEF": "Unicef", "WWI": "World War One",
    "WWII": "World War Two",
}

# names whose Roman numeral is a regnal ordinal ("Henry VIII" → "Henry the Eighth")
REGNAL_NAMES = frozenset("""
Henry Edward Elizabeth Charles George William James Richard John Louis Philip Philippe Peter Paul Pius Leo
Benedict Gregory Innocent Clement Urban Boniface Alexander Nicholas Ivan Frederick Friedrich Wilhelm Otto
Victor Emmanuel Umberto Ferdinand Isabella Mary Anne Catherine Alfonso Juan Carlos Felipe Carl Gustaf Gustav
Christian Frederik Haakon Olav Harald Rama Napoleon Ramesses Ramses Amenhotep Thutmose Ptolemy Cleopatra
Constantine Justinian Darius Xerxes Artaxerxes Antiochus Sixtus Julius Francis Stephen David Robert
Duncan Kenneth Sancho Pedro Manuel Afonso Ludwig Maximilian Rudolf Leopold Joseph Franz Karl
Sigismund Casimir Sobieski Vladislaus Wladyslaw Boleslaw Bela Andrew Ladislaus Matthias Alexios Basil Michael
Romanos Nikephoros Theodosius Valentinian Honorius Dom Sebastian Adolf Albert Baudouin Willem Beatrix
Juliana Wilhelmina Harold Canute Cnut Ethelred Aethelred Edmund Athelstan Henri Jean Jacques Hugh
""".split()) | {"Ford", "Rockefeller", "Vanderbilt", "Gates", "Bush", "Griffey", "Jr"}

# words after which a Roman numeral is a cardinal ("World War II" → "World War Two")
ROMAN_CARDINAL_CONTEXT = frozenset("""
War Chapter Part Volume Vol Act Book Phase Type Class Title Section Round Level Episode Bowl Appendix Article
Stage Season Grade Step Scene Unit Mark Mk Series Schedule Division Tier Category Cat Game Super Star Vatican
Apollo Gemini Mercury Model Track Figure Plate Canto Psalm Rocky Saw Wars Creed Civilization Final
""".split())

# words before a four-digit number that make it a year
YEAR_CONTEXT = frozenset("""
in since from until till thru through by during before after circa year years summer winter spring autumn
fall early late mid of to and between around about c ca class vintage model season election census
""".split())
# lowercase words that may follow a year without making it a count ("in 1984 and", "since 2001 when")
FUNCTION_WORDS = frozenset("""
a an the and or but nor so yet to of in on at by for with from into onto over under after before until till
since during as than then there here when where while which who whom whose that this these those what why how
is are was were be been being am has had have having do does did will would shall should can could may might
must it its he she they we i you his her their our my your him them us me up down out off through about
against between among via per versus vs also too only just even still again already ever never not no
began begun ended came become became brought marked saw see seen said says remains remained alone onwards onward
ago itself
""".split())
# words before a number that make it a count even when it looks like a year
COUNT_CONTEXT = frozenset("""
over under than only approximately nearly almost exactly total just some all number numbers page pages
room rooms flight route bus roughly least most costs cost paid pay pays weighs
""".split())

# words before a number that make it a name, read as people say them ("Room 101" → "one oh one")
IDENTIFIER_CONTEXT = frozenset("""
Room Rm Gate Platform Plat Suite Ste Flight Train Bus Route Rte Highway Hwy Interstate Track Terminal Apartment
Apt Bay Pier Dock Berth Exit Building Bldg Ward Locker Cabin Studio Unit Office Hangar Stand Lane Line Carriage
Coach Car Booth Hall Box Aisle Cell Court Area Zone Level Floor Deck Seat Row Tram Ferry Service
room gate platform suite flight train bus route highway interstate track terminal apartment bay pier dock berth
exit building ward locker cabin hangar booth aisle tram ferry port Port Concourse concourse Wing Sector Lot Shed
Error error Status status Extension extension HTTP
""".split())
# an airline's two-letter code before a flight number ("UA 920"); codes that are also words, states or units
# ("AM", "CA", "LA", "AI", "AC") are left out
CARRIER_CODES = frozenset("""
UA AA DL WN BA LH AF KL EK QF JL SQ CX B6 NK F9 LX TK EY KE CZ MU NZ AY
""".split())
# names before a model number read in pairs ("Boeing 747" → "seven forty-seven", "RTX 4090" → "forty ninety")
MODEL_NAMES = frozenset("""
Boeing Airbus Cessna Embraer Bombardier Porsche Peugeot Ferrari BMW Audi Volvo Saab Fiat Mazda Lexus RTX GTX
GT RX Radeon GeForce Titan Ryzen Threadripper Xeon Core Pentium Celeron Athlon Snapdragon Exynos Dimensity
Tensor Intel AMD Nvidia NVIDIA Pixel Galaxy Lumia Nokia Canon Nikon Sony Leica Fujifilm Olympus Model Series
Yamaha Roland Korg Fender Gibson Kawasaki Suzuki Ducati Harley Glock Colt Beretta Remington Winchester ISO RFC
Xbox Microsoft
""".split())
# a street's last word: the number before its name is a house number ("221B Baker Street")
STREET_WORDS = frozenset("""
Street Avenue Road Boulevard Lane Drive Way Court Place Terrace Parkway Square Crescent Close Row Alley Plaza
Highway Circle Trail Walk Hill Gardens Mews Broadway St Ave Rd Blvd Ln Dr Ct Pl Pkwy Sq
""".split())
# words after 911, 999 or 112 that make it the emergency number ("a 911 call")
EMERGENCY_FOLLOWERS = frozenset("""
call calls caller callers operator operators dispatcher dispatchers dispatch emergency emergencies line center
centre service services
""".split())
# words before a dotted number that make it a version, each part a number ("Python 3.11" → "three point eleven")
VERSION_CONTEXT = frozenset("""
version Version versions release Release Python python Node Java Ruby Perl PHP Rust Golang Swift Kotlin Scala
Django Rails React Angular Vue TypeScript Postgres PostgreSQL MySQL Redis Kubernetes Docker Ubuntu Debian Fedora
macOS iOS iPadOS Android Windows Firefox Chrome Safari Linux kernel Kernel Unicode HTTP TLS SSL OpenSSL Bluetooth
USB Wi-Fi IPv Blender GIMP Unity Unreal Godot Qt GTK GNOME KDE CUDA ONNX PyTorch TensorFlow NumPy pandas
build Build patch Patch update Update firmware Firmware
""".split())

# days of the week as written in ranges ("Mon–Fri" → "Monday to Friday")
WEEKDAYS = {
    "Mon": "Monday", "Tue": "Tuesday", "Tues": "Tuesday", "Wed": "Wednesday", "Thu": "Thursday",
    "Thur": "Thursday", "Thurs": "Thursday", "Fri": "Friday", "Sat": "Saturday", "Sun": "Sunday",
    "Monday": "Monday", "Tuesday": "Tuesday", "Wednesday": "Wednesday", "Thursday": "Thursday", "Friday": "Friday",
    "Saturday": "Saturday", "Sunday": "Sunday",
}
