import math
import subprocess
import sys

import pytest
import torch
from test_decode import peaky

from asr.decode import DecodeOptions, greedy_search, make_decoder
from asr.lm import build_lm
from asr.options import parse_hotwords
from asr.text import CharTokenizer

TOK = CharTokenizer()


def ambiguous(text: str, pos: int, wanted: str, p_wanted: float = 0.3) -> torch.Tensor:
    """peaky(text) with the character at ``pos`` made 1-p vs p ambiguous with ``wanted``."""
    lp = peaky(text)
    frames = range(pos * 4, pos * 4 + 3)  # peaky: 3 frames per character + 1 blank
    have = TOK.index[text[pos]]
    for t in frames:
        lp[0, t, have], lp[0, t, TOK.index[wanted]] = math.log(0.95 - p_wanted), math.log(p_wanted)
    return lp


def test_parse_hotwords():
    assert parse_hotwords(["Kubernetes", "grafana:3.5,york:1"], 2.0) == (
        ("kubernetes", 2.0),
        ("grafana", 3.5),
        ("york", 1.0),
    )
    with pytest.raises(ValueError, match="'covid19': reads as several words"):
        parse_hotwords(["covid19"])
    with pytest.raises(ValueError, match="between 0 and 5"):
        parse_hotwords(["americans:40"])
    with pytest.raises(ValueError, match="not a number"):
        parse_hotwords(["word:lots"])
    with pytest.raises(ValueError, match="no letters"):
        parse_hotwords(["!!"])


def test_lexicon_free_hotword_wins_an_ambiguous_character():
    lp = ambiguous("the kat sat", 4, "c")
    lens = torch.tensor([lp.shape[1]])
    assert greedy_search(lp, lens, TOK)[0].text == "the kat sat"
    plain = make_decoder(TOK, DecodeOptions("beam", beam_size=16))
    assert plain(lp, lens)[0].text == "the kat sat"
    biased = make_decoder(TOK, DecodeOptions("beam", beam_size=16, hotwords=(("cat", 1.0),)))
    assert biased(lp, lens)[0].text == "the cat sat"


def test_lexicon_free_partial_hotword_earns_nothing():
    # "cat" is only the start of the hotword "category": the bonus is taken back, so the acoustics decide.
    lp = ambiguous("the kat sat", 4, "c")
    lens = torch.tensor([lp.shape[1]])
    biased = make_decoder(TOK, DecodeOptions("beam", beam_size=16, hotwords=(("category", 1.0),)))
    assert biased(lp, lens)[0].text == "the kat sat"
    # ...and a hotword inside a longer word ("cat" in "kats") does not count either.
    lp = ambiguous("the kats sat", 4, "c")
    biased = make_decoder(TOK, DecodeOptions("beam", beam_size=16, hotwords=(("cat", 1.0),)))
    assert biased(lp, torch.tensor([lp.shape[1]]))[0].text == "the kats sat"


def test_lexicon_hotword_added_and_boosted_with_lm(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("the kat sat on the mat\nthe kat ate the rat\na kat sat on a hat\n" * 5)
    arpa, lexicon = build_lm(text, tmp_path / "lm", order=3)
    assert "cat" not in lexicon.read_text().split()
    lp = ambiguous("the kat sat", 4, "c", p_wanted=0.45)
    lens = torch.tensor([lp.shape[1]])
    opts = DecodeOptions("beam", beam_size=16, lexicon=str(lexicon), lm=str(arpa), lm_weight=1.0)
    assert make_decoder(TOK, opts)(lp, lens)[0].text == "the kat sat"
    for lm in (str(arpa), None):  # with the n-gram LM and without one
        opts = DecodeOptions("beam", beam_size=16, lexicon=str(lexicon), lm=lm, lm_weight=1.0, hotwords=(("cat", 2.0),))
        assert make_decoder(TOK, opts)(lp, lens)[0].text == "the cat sat"


def test_hotword_outside_alphabet_is_an_error():
    with pytest.raises(ValueError, match="alphabet"):
        make_decoder(TOK, DecodeOptions("beam", hotwords=(("café", 1.0),)))


def test_cli_hotwords_recover_rare_words(espeak, tmp_path):
    """Two rare words, one in no lexicon, come out when they are named as hotwords (through the CLI, with and
    without the bundled LM). Nothing here depends on what the model gets wrong without them."""
    wav = tmp_path / "rare.wav"
    subprocess.run(
        [
            "espeak-ng",
            "-v",
            "en-us+f2",
            "-w",
            str(wav),
            "please ask doctor zelinski to restart the kubernetes cluster tonight",
        ],
        check=True,
    )
    # The default boost. The voice matters: version 14 hears espeak's "zelinski" in the quincy voice (this test's
    # voice until then) as "the inspector", and no boost up to the cap brings it back (docs/devlog.md).
    cmd = [sys.executable, "-m", "asr", "transcribe", str(wav), "--hotwords", "zelinski,kubernetes"]
    for extra in ([], ["--no-lm"]):
        biased = subprocess.run(cmd + extra, capture_output=True, text=True, check=True).stdout.split()
        assert "zelinski" in biased and "kubernetes" in biased, (extra, biased)
