from asr.lexicon import UNK, cache_dir, lexicon_spellings, spell_lexicon
from asr.text import build_tokenizer


def test_spellings_are_cached_for_the_next_start(tmp_path, monkeypatch):
    """A phone model's respelt lexicon is written to the cache folder once and read back the same; another
    tokenizer gets its own entry; damaged entries are computed again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    tok = build_tokenizer(0, ["the cat sat on the mat", "a dog"], "phone")
    lines = ["the\tt h e |", "cat\tc a t |", "dog\td o g |", "mat\tm a t |", "x-ray\tx r a y |"]
    first = lexicon_spellings(lines, tok)
    assert first == spell_lexicon(lines, tok) and "x-ray" not in first and first[UNK] == []
    assert first["the"] == [[tok.index[p] for p in s] + [tok.space] for s in tok.spellings("the")]  # both ways
    assert len(list(cache_dir().glob("spellings-*.npz"))) == 1
    assert lexicon_spellings(lines, tok) == first  # read back from the cache
    hat = ["hat\th a t |"]  # a hotword the lexicon lacks: spelt after the lexicon's words, not cached
    assert lexicon_spellings(lines, tok, hat) == spell_lexicon(lines + hat, tok)
    assert list(lexicon_spellings(lines, tok, hat))[-2:] == ["hat", UNK]
    other = build_tokenizer(0, ["the cat"], "phone")
    lexicon_spellings(lines, other)
    assert len(list(cache_dir().glob("spellings-*.npz"))) == 2
    for f in cache_dir().glob("spellings-*.npz"):  # a damaged entry is computed again
        f.write_bytes(b"damaged")
    assert lexicon_spellings(lines, tok) == first
    for f in cache_dir().glob("spellings-*.npz"):  # so is a cut-off one
        f.write_bytes(f.read_bytes()[:100])
    assert lexicon_spellings(lines, tok) == first
