from asr.text import CharTokenizer, normalize_text


def test_normalize():
    assert normalize_text("Hello,  World!") == "hello world"
    assert normalize_text("Don’t STOP—now") == "don't stop now"
    assert normalize_text("'quoted' words") == "quoted words"
    assert normalize_text("Café 42") == "cafe four two"
    assert normalize_text("  ") == ""


def test_tokenizer_round_trip():
    tok = CharTokenizer()
    ids = tok.encode("It's a TEST.")
    assert 0 not in ids and len(tok) == 29
    assert tok.decode(ids) == "it's a test"
    assert CharTokenizer.from_state_dict(tok.state_dict()).tokens == tok.tokens


def test_word_pieces_are_learnt_inside_words_and_round_trip():
    from asr.text import WordPieceTokenizer, learn_word_pieces, tokenizer_from_state

    texts = ["the lower the newer", "lowest newest widest", "the low new", "The Lower, the newer!"]
    merges = learn_word_pieces(texts, 12)
    assert merges == learn_word_pieces(list(reversed(texts)), 12)  # counts decide, not order
    assert merges[0] == ("w", "e")  # lower and newer twice each, lowest, newest: 6 times, more than any other pair
    assert len(merges) == 10  # after 10 merges every pair left occurs once
    tok = WordPieceTokenizer(merges)
    assert tok.tokens[:29] == CharTokenizer().tokens and len(tok) == 29 + len(set(a + b for a, b in merges))
    for text in ["the lowest newer", "unseen words zq", "it's"]:
        ids = tok.encode(text)
        assert tok.decode(ids) == text and 0 not in ids
        assert ids == [tok.index[p] for w in text.split() for p in [" "] + tok.spell(w)][1:]
    assert len(tok.encode("the lowest")) < len(CharTokenizer().encode("the lowest"))
    assert "".join(tok.spell("newest")) == "newest" and len(tok.spell("newest")) < 6
    again = tokenizer_from_state(tok.state_dict())
    assert isinstance(again, WordPieceTokenizer) and again.tokens == tok.tokens
    assert type(tokenizer_from_state(CharTokenizer().state_dict())) is CharTokenizer
    assert learn_word_pieces(["a b c"], 5) == []  # no pair occurs twice
