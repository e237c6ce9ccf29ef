import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from asr.decode import DecodeOptions, greedy_search, make_decoder
from asr.lm import build_lm
from asr.prefix_search import prefix_beam_search
from asr.text import CharTokenizer

TOK = CharTokenizer()


def peaky(text: str, frames_per_char: int = 3, conf: float = 0.95) -> torch.Tensor:
    """(1, T, V) log-probs that spell ``text`` with blanks between characters."""
    ids = []
    for c in text:
        ids += [TOK.index[c]] * frames_per_char + [0]
    lp = torch.full((len(ids), len(TOK)), math.log((1 - conf) / (len(TOK) - 1)))
    lp[torch.arange(len(ids)), torch.tensor(ids)] = math.log(conf)
    return lp.unsqueeze(0)


def test_greedy_handcrafted():
    # frames: a a _ b b _ b  → "abb"
    ids = [1 + 2, 1 + 2, 0, 4, 4, 0, 4]
    lp = torch.log(torch.nn.functional.one_hot(torch.tensor(ids), len(TOK)).float() * 0.9 + 0.1 / len(TOK))
    (h,) = greedy_search(lp.unsqueeze(0), torch.tensor([7]), TOK)
    assert h.text == "abb" and h.timesteps == [0, 3, 6]


def test_greedy_respects_lengths():
    lp = torch.cat([peaky("hi there"), peaky("hi there")])
    lens = torch.tensor([lp.shape[1], 8])
    a, b = greedy_search(lp, lens, TOK)
    assert a.text == "hi there" and b.text == "hi"


def test_beam_equals_greedy_on_peaky_input():
    lp = torch.cat([peaky("hello world"), peaky("hello world")])
    lens = torch.tensor([lp.shape[1], lp.shape[1] - 16])
    beam = make_decoder(TOK, DecodeOptions("beam", beam_size=8))(lp, lens)
    greedy = greedy_search(lp, lens, TOK)
    assert [h.text for h in beam] == [h.text for h in greedy] == ["hello world", "hello w"]
    assert beam[0].tokens == greedy[0].tokens


def test_beam_with_lexicon_and_lm_fixes_spelling(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("the cat sat on the mat\nthe cat ate the rat\na cat sat on a hat\n" * 5)
    arpa, lexicon = build_lm(text, tmp_path / "lm", order=3)
    # Ambiguous middle: "cat" vs "cet" (60/40 on the vowel); the lexicon only knows "cat".
    lp = peaky("the cet sat")
    a, e = TOK.index["a"], TOK.index["e"]
    vowel_frames = [t for t in range(lp.shape[1]) if lp[0, t].argmax() == e][:3]
    for t in vowel_frames:
        lp[0, t, e], lp[0, t, a] = math.log(0.6), math.log(0.35)
    lens = torch.tensor([lp.shape[1]])
    assert greedy_search(lp, lens, TOK)[0].text == "the cet sat"
    opts = DecodeOptions("beam", beam_size=16, lexicon=str(lexicon), lm=str(arpa), lm_weight=1.0)
    assert make_decoder(TOK, opts)(lp, lens)[0].text == "the cat sat"


def label_posteriors(lp: np.ndarray, blank: int = 0) -> dict[tuple[int, ...], float]:
    """Every label sequence's probability, summed over all its alignments by enumeration. lp: (T, V)."""
    probs: dict[tuple[int, ...], float] = {}
    for path in itertools.product(range(lp.shape[1]), repeat=lp.shape[0]):
        labels = tuple(c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1]))
        probs[labels] = probs.get(labels, 0.0) + math.exp(sum(lp[t, c] for t, c in enumerate(path)))
    return probs


def test_prefix_search_is_exact_without_pruning():
    for seed in range(6):
        lp = torch.log_softmax(torch.randn(6, 4, generator=torch.Generator().manual_seed(seed)) * 2, -1).numpy()
        probs = label_posteriors(lp)
        best = max(probs, key=probs.get)
        r = prefix_beam_search(
            lp,
            blank=0,
            word_sep=1,
            beam_size=200,
            beam_size_token=0,
            token_min_logp=-1e9,
            beam_threshold=1e9,
            recombine=False,
        )
        assert tuple(r.tokens) == best
        assert r.score == pytest.approx(math.log(probs[best]), abs=1e-6)
        assert len(r.frames) == len(r.tokens) and r.frames == sorted(r.frames) and all(0 <= f < 6 for f in r.frames)


def test_prefix_search_with_recombination_finds_the_best_sequence():
    found = 0
    for seed in range(20):
        lp = torch.log_softmax(torch.randn(7, 4, generator=torch.Generator().manual_seed(100 + seed)) * 2, -1).numpy()
        probs = label_posteriors(lp)
        found += tuple(prefix_beam_search(lp, blank=0, word_sep=1, beam_size=8).tokens) == max(probs, key=probs.get)
    assert found >= 19


def test_beam_sums_alignments_where_greedy_does_not():
    # Two frames, P(blank) = 0.6 and P(a) = 0.4 in each: the best path is blank-blank (""), but "a" has
    # probability 0.4·0.4 + 0.4·0.6 + 0.6·0.4 = 0.64 against 0.36.
    lp = torch.full((1, 2, len(TOK)), -30.0)
    lp[0, :, 0], lp[0, :, TOK.index["a"]] = math.log(0.6), math.log(0.4)
    lens = torch.tensor([2])
    assert greedy_search(lp, lens, TOK)[0].text == ""
    (h,) = make_decoder(TOK, DecodeOptions("beam", beam_size=4))(lp, lens)
    assert h.text == "a" and h.timesteps == [0] and h.score == pytest.approx(math.log(0.64), abs=1e-4)


def test_lexicon_and_lm_with_word_pieces(tmp_path):
    """A word-piece model's beam search respells the (letter-spelt) lexicon in its pieces."""
    from asr.lexicon import lexicon_spellings
    from asr.text import WordPieceTokenizer, learn_word_pieces

    text = tmp_path / "text.txt"
    text.write_text("the cat sat on the mat\nthe cat ate the rat\na cat sat on a hat\n" * 5)
    arpa, lexicon = build_lm(text, tmp_path / "lm", order=3)
    tok = WordPieceTokenizer(learn_word_pieces(text.read_text().splitlines(), 6))
    spelt = lexicon_spellings(Path(lexicon).read_text().splitlines(), tok)
    assert len(spelt) == 10  # the cat sat on mat ate rat a hat, and <unk> with no spelling
    assert spelt["the"] == [[tok.index[p] for p in tok.spell("the")] + [tok.space]] and len(tok.spell("the")) == 1
    # Emissions that spell "the hat sat" in its pieces (the, h at, sat), with "at" ambiguous: "e" 60%, "at" 35%.
    pieces = [p for w in "the hat sat".split() for p in [" "] + tok.spell(w)][1:]
    assert pieces == ["the", " ", "h", "at", " ", "sat"]
    frames = [f for p in pieces for f in [tok.index[p]] * 3 + [0]]
    lp = torch.full((len(frames), len(tok)), math.log(0.05 / (len(tok) - 1)))
    lp[torch.arange(len(frames)), torch.tensor(frames)] = math.log(0.95)
    e, at = tok.index["e"], tok.index["at"]
    for t in [t for t in range(len(frames)) if frames[t] == at]:
        lp[t, e], lp[t, at] = math.log(0.6), math.log(0.35)
    lp, lens = lp.unsqueeze(0), torch.tensor([len(frames)])
    assert greedy_search(lp, lens, tok)[0].text == "the he sat"
    opts = DecodeOptions("beam", beam_size=16, lexicon=str(lexicon), lm=str(arpa), lm_weight=1.0)
    assert make_decoder(tok, opts)(lp, lens)[0].text == "the hat sat"
    assert make_decoder(tok, DecodeOptions("beam", beam_size=8))(lp, lens)[0].text == "the he sat"
    biased = make_decoder(tok, DecodeOptions("beam", beam_size=8, hotwords=(("hat", 3.0),)))(lp, lens)
    assert biased[0].text == "the hat sat"


def test_bundled_model_decodes_with_the_bundled_lm_by_default():
    from asr.bundled import BUNDLED_LM, bundled_lm_available
    from asr.cli import parser
    from asr.commands.common import decode_options

    def opts(*argv):
        return decode_options(parser().parse_args(["transcribe", "x.wav", *argv]))

    if bundled_lm_available():
        assert opts().decoder == "beam" and opts().lm == str(BUNDLED_LM) and opts().lexicon
        assert opts("--lm-weight", "0.5").lm_weight == 0.5
    else:
        assert opts().decoder == "greedy"
    assert opts("--no-lm").lm is None and opts("--no-lm").decoder == "greedy"
    assert opts("--decoder", "greedy").decoder == "greedy"
    assert opts("--model", "mine.pt").lm is None  # other checkpoints: greedy unless told
    assert opts("--no-lm", "--beam-size", "8").decoder == "beam"


def test_hotwords_go_before_or_after_the_inputs():
    from asr.cli import parser
    from asr.commands.common import decode_options

    args = parser().parse_args(["transcribe", "--hotwords", "Americans,country:3", "jfk.flac", "--hotwords", "fellow"])
    assert args.inputs == ["jfk.flac"]
    assert decode_options(args).hotwords == (("americans", 2.0), ("country", 3.0), ("fellow", 2.0))


def test_refusals_come_before_torch_is_imported(tmp_path):
    """A missing input, a bad option or an existing output is refused without loading torch or the model."""
    import subprocess
    import sys

    (tmp_path / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text("mine")
    code = (
        "import sys\nfrom asr.cli import main\nfor argv in sys.argv[1:]:\n    try:\n        main(argv.split('|'))\n"
        "    except SystemExit as e:\n        print(e.code, 'torch' in sys.modules)\n"
    )
    cases = [
        "transcribe|/nonexistent/x.wav",
        "transcribe|x.wav|--hotwords|covid19",
        f"transcribe|{tmp_path / 'a.wav'}|--output-dir|{tmp_path / 'out'}",
        f"transcribe|{tmp_path / 'a.wav'}|--model|{tmp_path / 'none.pt'}",
    ]
    res = subprocess.run([sys.executable, "-c", code, *cases], capture_output=True, text=True, timeout=60)
    assert res.stdout.split("\n")[:4] == ["1 False"] * 4, res.stdout + res.stderr
    assert (tmp_path / "out" / "a.txt").read_text() == "mine"
    assert "covid19" in res.stderr and "exists already" in res.stderr and "none.pt" in res.stderr


def test_lexicon_spelt_outside_the_alphabet_is_a_clear_error():
    from asr.errors import UsageError
    from asr.lexicon import lexicon_spellings

    assert lexicon_spellings(["the\tt h e |"], CharTokenizer())["the"] == [[22, 10, 7, 1]]
    with pytest.raises(UsageError, match="lexicon word 'THE': 'T' is not one of the model's characters"):
        lexicon_spellings(["THE\tT H E |"], CharTokenizer())
