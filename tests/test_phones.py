"""Phone units: CMUdict without stress, the G2P for other words, the phone tokenizer and its lexicon search."""

from __future__ import annotations

import math

import pytest
import torch

from asr.decode import DecodeOptions, make_decoder
from asr.pronounce import PHONES, load_g2p, pronounce
from asr.text import PhoneTokenizer, build_tokenizer, tokenizer_from_state


def test_cmudict_pronunciations_without_stress():
    prons = pronounce(["hello", "the"])
    assert prons["hello"][0] == ("HH", "AH", "L", "OW")
    assert all(p in PHONES for pron in prons["the"] for p in pron)
    assert len(PHONES) == 39


def test_g2p_pronounces_words_cmudict_lacks():
    g2p = load_g2p()
    assert g2p("cat") == ("K", "AE", "T")
    guess = pronounce(["zelinskiy"])["zelinskiy"][0]
    assert guess[0] == "Z" and "L" in guess and all(p in PHONES for p in guess)


def test_phone_tokenizer_round_trip_and_state():
    tok = build_tokenizer(0, ["the cat sat", "the dog"], "phone", ["mat"])
    assert tok.tokens[:2] == ["<blank>", " "] and len(tok) == 41
    # "on" is not in its lexicon: the nearest word comes back; once spelt, it is known
    assert tok.decode([tok.index[p] for p in ("AA", "N")]) in tok.lexicon
    assert tok.decode(tok.encode("The dog sat on the mat")) == "the dog sat on the mat"
    again = tokenizer_from_state(tok.state_dict())
    assert (
        isinstance(again, PhoneTokenizer)
        and again.lexicon == tok.lexicon
        and again.encode("the mat") == tok.encode("the mat")
    )
    # phones that spell no word of the lexicon decode to the nearest pronunciation
    near = [tok.index[p] for p in ("K", "AE", "D")]
    assert tok.decode(near) in ("cat", "mat")


def test_phone_decoding_from_many_threads_at_once():
    """Streaming sessions decode in a thread pool: the first decodes of a fresh tokenizer, all at once, agree and
    raise nothing (its phones → word table is built on first use)."""
    import sys
    import threading

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        from asr.bundled import DEFAULT_MODEL
        from asr.checkpoint import read_checkpoint

        state = read_checkpoint(DEFAULT_MODEL)["tokenizer"]  # 100,000 words: the table takes a while to build
        tok, fresh = tokenizer_from_state(state), tokenizer_from_state(state)
        ids, outs, errors = tok.encode("the cat sat"), [], []

        def decode() -> None:
            try:
                outs.append(fresh.decode(ids + [tok.space, tok.index["Z"], tok.index["Z"]]))
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=decode) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors and len(set(outs)) == 1 and outs[0].startswith("the cat sat")


def test_phone_greedy_decoding_gives_words():
    """Greedy decoding of a phone model: the word whose pronunciation the frames spell comes out."""
    tok = build_tokenizer(0, ["the cat", "a mat"], "phone")
    ids = tok.encode("the cat")
    T = 3 * len(ids) + 2
    lp = torch.full((1, T, len(tok)), math.log(1e-4))
    for k, i in enumerate(ids):
        lp[0, 3 * k : 3 * k + 2, i] = math.log(0.9)
        lp[0, 3 * k + 2, tok.blank] = math.log(0.9)
    lp[0, -2:, tok.blank] = math.log(0.9)
    lens = torch.tensor([T])
    assert make_decoder(tok, DecodeOptions("greedy"))(lp, lens)[0].text == "the cat"


@pytest.mark.parametrize("decoder", ["lexicon", "hotword"])
def test_phone_beam_search(tmp_path, decoder):
    tok = build_tokenizer(0, ["the cat sat"], "phone")
    ids = tok.encode("the cat sat")
    T = 2 * len(ids) + 1
    lp = torch.full((1, T, len(tok)), math.log(1e-4))
    for k, i in enumerate(ids):
        lp[0, 2 * k, i] = math.log(0.95)
        lp[0, 2 * k + 1, tok.blank] = math.log(0.95)
    lp[0, -1, tok.blank] = 0.0
    lens = torch.tensor([T])
    if decoder == "lexicon":
        lex = tmp_path / "lexicon.txt"
        lex.write_text("the\tt h e |\ncat\tc a t |\nsat\ts a t |\nmat\tm a t |\n")
        opts = DecodeOptions("beam", lexicon=str(lex), beam_size=8)
    else:
        opts = DecodeOptions("beam", beam_size=8, hotwords=(("cat", 2.0),))
    hyp = make_decoder(tok, opts)(lp, lens)[0]
    assert hyp.text == "the cat sat"
