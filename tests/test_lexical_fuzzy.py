"""The lexical index's one-edit tolerance for names (qa.lexical.LexicalIndex.near_known)."""

from __future__ import annotations

from qa.lexical import LexicalIndex, tokenize


def test_near_known_accepts_one_edit_on_longer_stems_only():
    lex = LexicalIndex.build(["Yvette Cooper phoned Rycroft about the pho stall."])
    assert lex.known(tokenize("Yvette")[0]) and not lex.known(tokenize("Yvete")[0])
    assert lex.near_known(tokenize("Yvete")[0])  # a letter dropped
    assert lex.near_known(tokenize("Ricroft")[0])  # a letter changed
    assert lex.near_known(tokenize("Rycrofft")[0])  # a letter added
    assert not lex.near_known(tokenize("Rycraft")[0] + "xx")  # three edits away
    assert not lex.near_known("phu")  # a short stem must match exactly
