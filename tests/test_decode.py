import math

import torch

from asr.decode import BeamSearchDecoder, DecodeOptions, greedy_search
from asr.lm import build_lm
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
    beam = BeamSearchDecoder(TOK, DecodeOptions("beam", beam_size=8))(lp, lens)
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
    assert BeamSearchDecoder(TOK, opts)(lp, lens)[0].text == "the cat sat"
