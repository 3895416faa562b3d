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


def test_defined_acronyms_pair_a_long_name_with_its_initials():
    from qa.lexical import defined_acronyms

    table = defined_acronyms([
        "The delegation visited the UK's National Crime Agency (NCA), and later the Met.",
        "Vietnam's Ministry of Public Security (MPS) supports the plan.",
        "He said (OK) twice.",  # no name before it: not a definition
    ])  # fmt: skip
    assert table == {
        "nca": "national crime agency",
        "national crime agency": "nca",
        "mps": "ministry of public security",
        "ministry of public security": "mps",
    }


def test_a_long_name_in_a_query_gains_its_acronym_and_not_the_reverse():
    from qa.lexical import expand_acronyms

    table = {"nca": "national crime agency", "national crime agency": "nca"}
    assert expand_acronyms("Who went to the National Crime Agency?", table) == (
        "Who went to the National Crime Agency? nca"
    )
    assert expand_acronyms("Who is the NCA's operations chief?", table) == (
        "Who is the NCA's operations chief?"
    )
    assert expand_acronyms("the National Crime Agency (NCA)", table) == (
        "the National Crime Agency (NCA)"
    )
