"""Numbers that agree with their noun in Spanish, French, Italian and Portuguese: "21 personas" → "veintiuna
personas", "200 páginas" → "doscientas páginas", "1 libro" → "un libro", "2 pessoas" → "duas pessoas", "21
personnes" → "vingt et une personnes". espeak-ng says every number as it is said alone ("veintiuno personas",
"uno libro", "dois pessoas"), and num2words has no feminine cardinals, so those a noun changes are written in
words here; all others stay digits for espeak-ng. A noun's gender comes from its word list, else its ending."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from num2words import num2words

Gender = str  # "f" or "m"


@dataclass(frozen=True)
class Genders:
    """One language's nouns by gender: the words first, then the longest ending that matches (an ending of
    gender None, such as Spanish "-ista", says the gender cannot be told)."""

    words: dict[str, Gender]
    endings: dict[str, Gender | None]
    not_nouns: frozenset[str]  # words with a noun's ending after which a number counts nothing ("para", "hasta")

    def of(self, word: str) -> Gender | None:
        word = word.lower()
        if len(word) < 3 or word in self.not_nouns:
            return None
        if word in self.words:
            return self.words[word]
        for ending in sorted(self.endings, key=len, reverse=True):
            if word.endswith(ending):
                return self.endings[ending]
        return None


def _listed(gender: Gender, text: str) -> dict[str, Gender]:
    return dict.fromkeys(text.split(), gender)


def _spanish(n: int, gender: Gender, noun: str = "") -> str | None:
    """ "veintiuna", "doscientas", "mil quinientas" (feminine); "un", "veintiún", "ciento un" (before a masculine
    noun); before "mil" a final "uno" is "un" either way ("veintiún mil personas")."""

    def group(k: int, before_mil: bool) -> str:
        said = num2words(k, lang="es")
        if gender == "f":
            said = said.replace("ientos", "ientas")
        if said.endswith("uno"):
            said = said[:-3] + ("ún" if said.endswith("iuno") else "un") if gender == "m" or before_mil \
                else said[:-1] + "a"
        return said

    high, low = divmod(n, 1000)
    said = " ".join(([("mil" if high == 1 else group(high, True) + " mil")] if high else [])
                    + ([group(low, False)] if low else []))
    return said if said != num2words(n, lang="es") else None


def _portuguese(n: int, gender: Gender, noun: str = "") -> str | None:
    """ "uma", "duas", "duzentas", "vinte e uma", "mil e quinhentas" (feminine; the masculine is espeak-ng's)."""
    if gender != "f":
        return None
    masculine = num2words(n, lang="pt_BR")
    said = re.sub(r"\bdois\b", "duas", re.sub(r"\bum\b", "uma", masculine)).replace("entos", "entas")
    return said if said != masculine else None


def _french(n: int, gender: Gender, noun: str = "") -> str | None:
    """ "une", "vingt et une", "quatre-vingt-une", "cent une" (feminine; "vingt et un mille" stays)."""
    if gender != "f":
        return None
    masculine = num2words(n, lang="fr")
    said = re.sub(r"\bun$", "une", masculine)
    return said if said != masculine else None


_ITALIAN_UNO = re.compile(r"s[^aeiouàèéìòù]|z|gn|ps|pn|x|y|i[aeiou]", re.IGNORECASE)  # "uno studente", "uno zio"


def _italian(n: int, gender: Gender, noun: str) -> str | None:
    """One only: "una casa", "un'ora", "un libro" ("uno studente" is espeak-ng's own)."""
    if n != 1:
        return None  # "ventuno case": the compounds do not change
    if gender == "f":
        return "un'" if noun and noun[0].lower() in "aeiouàèéìòù" else "una"  # no noun: a clock's "l'una"
    return None if _ITALIAN_UNO.match(noun) else "un"


@dataclass(frozen=True)
class Agreement:
    genders: Genders
    said: Callable[[int, Gender, str], str | None]  # (number, gender, noun) → its words, None: the digits do
    labels: frozenset[str]  # words after which a number names ("página 21 muestra"): no agreement with what follows
    hours: Gender = "f"  # the gender of a clock time's hours ("la una", "vingt et une heures")
    minutes: Gender = "m"

    def words(self, n: int, gender: Gender, noun: str = "") -> str | None:
        return self.said(n, gender, noun) if 0 < n < 1_000_000 else None

    def before(self, n: int, noun: str) -> str | None:
        """How `n` is said before `noun` when that differs from the digits alone."""
        gender = self.genders.of(noun)
        return self.words(n, gender, noun) if gender else None


# Each table: (words, endings, not nouns), examples in the tests (test_normalize.py AGREEMENT_CASES).
SPANISH = Agreement(Genders(
    _listed("f", """mano manos foto fotos moto motos vez veces mujer mujeres flor flores noche noches calle calles
        clase clases parte partes gente llave llaves torre torres imagen imágenes ley leyes red redes piel luz luces
        voz voces razón razones tarde tardes fuente fuentes suerte carne leche nube nubes frase frases base bases
        sede sedes orden órdenes nave naves lista listas pista pistas vista vistas""")
    | _listed("m", """día días mapa mapas problema problemas programa programas sistema sistemas tema temas
        idioma idiomas clima climas planeta planetas poema poemas esquema esquemas dilema dilemas drama dramas
        diploma diplomas tranvía tranvías pijama pijamas mes meses dólar dólares hotel hoteles país países árbol
        árboles hombre hombres coche coches pie pies lunes martes miércoles jueves viernes"""),
    {"a": "f", "as": "f", "ción": "f", "ciones": "f", "sión": "f", "siones": "f", "dad": "f", "dades": "f",
     "tad": "f", "tades": "f", "tud": "f", "tudes": "f", "umbre": "f", "umbres": "f", "ie": "f", "ies": "f",
     "o": "m", "os": "m", "or": "m", "ores": "m", "aje": "m", "ajes": "m", "ón": "m", "ones": "m",
     "ista": None, "istas": None},
    frozenset("""para hasta contra cada las una unas esa esas esta estas aquella aquellas nada ahora era eran sea
        sean fuera fueran había habían tenía tenían mientras nunca encima cerca apenas como tanto cuando pero todo
        mismo menos algo solo sino luego dentro abajo junto incluso otro nosotros vosotros ellos los""".split())),
    _spanish, frozenset("""página páginas capítulo artículo número nº núm habitación calle puerta planta línea vía
        ruta año versión tomo volumen""".split()))

PORTUGUESE = Agreement(Genders(
    _listed("f", """mão mãos vez vezes mulher mulheres flor flores noite noites tarde tardes parte partes foto fotos
        moto motos cor cores dor dores lei leis rede redes luz luzes voz vozes fonte fontes morte sorte carne nuvem
        nuvens ordem ordens árvore árvores chave chaves classe classes frase frases base bases ponte pontes""")
    | _listed("m", """dia dias mapa mapas problema problemas programa programas sistema sistemas tema temas
        idioma idiomas clima climas planeta planetas poema poemas telefonema telefonemas cinema cinemas"""),
    {"a": "f", "as": "f", "ção": "f", "ções": "f", "são": "f", "sões": "f", "dade": "f", "dades": "f",
     "agem": "f", "agens": "f", "o": "m", "os": "m", "ista": None, "istas": None},
    frozenset("""para contra agora nada cada uma umas essa essas esta estas aquela aquelas era eram fora ainda
        apenas quase sempre""".split())),
    _portuguese, frozenset("""página páginas capítulo artigo número nº
        quarto rua linha via ano versão""".split()))

FRENCH = Agreement(Genders(
    _listed("f", """personne personnes fois heure heures minute minutes seconde secondes page pages chose choses
        femme femmes fille filles maison maisons ville villes place places table tables chambre chambres porte
        portes nuit nuits rue rues fleur fleurs main mains idée idées photo photos vie étoile étoiles langue
        langues pomme pommes tasse tasses bouteille bouteilles tonne tonnes lettre lettres classe classes école
        écoles équipe équipes victoire victoires partie parties étape étapes voix fin livre""")
    # "livre" is the pound ("1 £" → "une livre"): a book is rarely one in digits; "livres" (either) is left alone
    | _listed("m", """musée musées lycée lycées domaine domaines été côté côtés comité comités pâté pâtés"""),
    {"tion": "f", "tions": "f", "sion": "f", "sions": "f", "té": "f", "tés": "f", "ure": "f", "ures": "f",
     "ette": "f", "ettes": "f", "ance": "f", "ances": "f", "ence": "f", "ences": "f", "ière": "f", "ières": "f",
     "aine": "f", "aines": "f", "ée": "f", "ées": "f"},
    frozenset()),
    _french, frozenset("""page chapitre article numéro nº rue salle porte ligne
        voie an année version""".split()), minutes="f")

ITALIAN = Agreement(Genders(
    _listed("f", """mano foto moto radio notte parte gente volta chiave classe nave fine""")
    | _listed("m", """problema programma sistema tema clima pianeta poeta papa cinema"""),
    {"a": "f", "zione": "f", "sione": "f", "tà": "f", "trice": "f", "o": "m", "ista": None},
    frozenset("""una ma da la contra sopra ancora prima senza verso dopo molto poco tanto quando come solo però
        fino dentro fuori""".split())),
    _italian, frozenset("""pagina capitolo articolo numero nº stanza via linea binario anno versione""".split()))

AGREEMENT = {"e": SPANISH, "f": FRENCH, "i": ITALIAN, "p": PORTUGUESE}
