"""Columns the command line cannot find: exit 2 with one sentence that names the real flags,
and those flags fix it."""

from __future__ import annotations

import argparse

import pytest

from metacore.cli import build_parser, main

LONG = ["balance_not_updated_after_cheque_or_cash_deposit",
        "card_payment_wrong_exchange_rate_applied"]


def _flags(command: str) -> set[str]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {flag for action in sub.choices[command]._actions for flag in action.option_strings}


@pytest.fixture
def numbers(tmp_path):
    path = tmp_path / "codes.csv"  # no column holds texts: nothing to detect
    path.write_text("Code,Wert\n" + "".join(f"{i},{i * 7}\n" for i in range(8)), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("command", ["run", "validate"])
def test_undetected_columns_name_the_flags_that_choose_them(numbers, command, capsys) -> None:
    argv = ["run", "--data", numbers, "--method", "tfidf-logreg", "--quiet"] \
        if command == "run" else ["validate", numbers]
    assert main(argv) == 2
    said = capsys.readouterr()
    text = said.err if command == "run" else said.out
    assert "No column looks like it holds the texts" in text, text
    assert "--text-col" in text and "--label-col" in text, text
    assert "Traceback" not in said.err
    assert {"--text-col", "--label-col"} <= _flags(command)  # the flags it names exist


def test_the_named_flags_load_a_file_whose_columns_were_guessed_wrong(tmp_path, capsys) -> None:
    path = tmp_path / "intents.csv"  # long labels look like the texts: the guess is wrong
    path.write_text("Nachricht,Absicht\n" + "".join(f"money gone {i},{LONG[i % 2]}\n"
                                                    for i in range(12)), encoding="utf-8")
    main(["validate", str(path)])  # a guess is a warning: the file is usable, but wrong
    out = capsys.readouterr().out
    assert "Guessed that 'Absicht' holds the texts" in out and "--text-col" in out, out
    assert "12 classes have only one example" in out
    assert main(["validate", str(path), "--text-col", "Nachricht", "--label-col",
                 "Absicht"]) == 0
    out = capsys.readouterr().out
    assert "12 rows, 2 classes" in out and "WARNING" not in out and "usable" in out


def test_a_one_column_file_says_to_add_the_labels(tmp_path, capsys) -> None:
    path = tmp_path / "texts.csv"
    path.write_text("words\nhello there\ngood bye\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    assert "only one column ('words')" in capsys.readouterr().out
