import pytest

from asr.metrics import align, cer, char_errors, wer, word_errors, write_error_report


def test_wer_cases():
    assert wer(["a b c"], ["a b c"]) == 0
    assert wer(["a b c d"], ["a x c"]) == pytest.approx(50.0)  # 1 sub + 1 del
    assert wer(["a b"], ["a b c d"]) == pytest.approx(100.0)  # 2 ins
    e = word_errors(["the cat sat", "hello"], ["the bat sat on", ""])
    assert (e.substitutions, e.deletions, e.insertions, e.ref_len) == (1, 1, 1, 4)
    assert wer(["Hello, World!"], ["hello world"]) == 0  # normalised before scoring


def test_empty_reference_counts_insertions():
    e = word_errors(["", "a b"], ["x y", "a b"])
    assert e.insertions == 2 and e.ref_len == 2 and e.rate == 100.0


def test_cer():
    assert cer(["abcd"], ["abxd"]) == pytest.approx(25.0)
    assert char_errors(["ab cd"], ["ab cd"]).errors == 0


def test_alignment_and_report(tmp_path):
    assert align("a b c d", "a x c d e") == "a (b->x) c d (*->e)"
    assert align("a b c", "a c") == "a (b->*) c"
    w, c = write_error_report(tmp_path / "errors.txt", ["u1", "u2"], ["a b c", "d e"], ["a b c", "d"])
    text = (tmp_path / "errors.txt").read_text()
    assert w.errors == 1 and "u2: 1 errors" in text and "REF: d e" in text and "ALI: d (e->*)" in text
    assert text.index("u2") < text.index("u1")  # worst first
