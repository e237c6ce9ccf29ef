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
