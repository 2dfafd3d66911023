"""Every bad or hostile file, through ``metacore validate`` and through the Data page.

Each one gives a clear message or a clean load, never a traceback, and loading stays within a
memory bound proportional to the (capped) file size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from metacore.cli import main
from metacore.data import Limits, load_dataset, validate
from tests.markdown import shown
from tests.reliability import hostile
from tests.reliability.corpus import BAD, CASES, case_id, cli_args, corpus

ROOT = Path(__file__).resolve().parents[2]
MB = 1024**2


def _bound(size: int) -> int:
    """Peak Python memory allowed while loading a file of ``size`` bytes (measured: ~4-10x,
    most of it the decoded text and the row lists; see README, Limits)."""
    return 16 * MB + 12 * size


@pytest.fixture(scope="module")
def big_files(tmp_path_factory) -> dict[str, Path]:
    return corpus.write_big_files(tmp_path_factory.mktemp("big"))


# --- the CLI ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_cli_validate_every_corpus_file(case, capsys) -> None:
    code = main(cli_args(case))
    out, err = capsys.readouterr()
    assert code == (0 if case.ok else 2), out + err
    assert "Traceback" not in out + err
    assert out.strip().endswith("usable")  # the verdict line: "usable" or "NOT usable"
    data = load_dataset(BAD / case.name, **case.load)
    for finding in validate(data, k_shot=case.k_shot):
        if finding.level != "info":
            assert finding.message in out, finding.code


def test_cli_validate_json_is_machine_readable(capsys) -> None:
    assert main(["validate", str(BAD / "one_class.csv"), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["usable"] is False and report["findings"][0]["code"] == "single_class"


def test_cli_run_reports_train_test_overlap_and_missing_class(capsys) -> None:
    code = main(["run", "--data", str(BAD / "cross_train.csv"), "--test",
                 str(BAD / "cross_test.csv"), "--method", "tfidf-logreg", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0
    assert "also appears in the training data" in err  # the duplicate across train and test
    assert "no examples of 1 training class ('c')" in err  # a class missing from the test file
    assert "never appear in training ('z')" in err


def test_cli_run_with_too_few_examples_for_k_warns(capsys) -> None:
    code = main(["run", "--data", str(BAD / "k_too_big.csv"), "--method", "tfidf-logreg",
                 "--shots", "5", "--quiet"])
    assert code == 0 and "fewer than" in capsys.readouterr().err


def test_cli_run_on_unusable_file_is_one_sentence(capsys) -> None:
    code = main(["run", "--data", str(BAD / "binary_renamed.csv"), "--method", "tfidf-logreg",
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: This file is not text") and err.count("\n") == 1


@pytest.mark.parametrize(("name", "code"), [("one_mb_text", 0), ("rows_500k", 2),
                                            ("classes_5000", 2)])
def test_cli_validate_big_files(big_files, name: str, code: int, capsys) -> None:
    assert main(["validate", str(big_files[name])]) == code
    out = capsys.readouterr().out
    expected = {"one_mb_text": "longer than 2,000 characters",
                "rows_500k": "more than 200,000 rows", "classes_5000": "5,000 different labels"}
    assert expected[name] in out


@pytest.mark.parametrize("name", ["one_mb_text", "rows_500k"])
def test_loading_big_files_stays_within_memory_bound(big_files, name: str) -> None:
    path = big_files[name]
    load_dataset(BAD / "semicolon.csv")  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        data = load_dataset(path)
        validate(data, k_shot=8)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = path.stat().st_size
    print(f"{name}: file {size / MB:.1f} MB, peak traced {peak / MB:.1f} MB")
    assert peak < _bound(size), f"peak {peak / MB:.0f} MB for a {size / MB:.1f} MB file"
    assert len(data.frame) <= Limits().max_rows


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_cli_process_rss_stays_bounded(big_files) -> None:
    """The peak resident memory the CLI process gains while validating both big files.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent (pytest) across exec.
    """
    script = (
        "import re, sys\n"
        "from metacore.cli import main\n"
        "from metacore.data import load_dataset\n"
        "status = lambda: open('/proc/self/status').read()\n"
        "rss = lambda: int(re.search(r'VmHWM:\\s+(\\d+)', status()).group(1)) * 1024\n"
        "before = rss()\n"
        "codes = [main(['validate', p]) for p in sys.argv[1:]]\n"
        "print(codes, before, rss())\n"
    )
    paths = [str(big_files["one_mb_text"]), str(big_files["rows_500k"])]
    out = subprocess.run([sys.executable, "-c", script, *paths], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, check=True).stdout.strip().splitlines()[-1]
    codes, before, after = out.rsplit(" ", 2)
    grown = int(after) - int(before)
    size = big_files["rows_500k"].stat().st_size
    print(f"CLI validate of 1 MB text + 500k rows: peak RSS grew {grown / MB:.0f} MB "
          f"(from {int(before) / MB:.0f} MB after imports)")
    assert codes.startswith("[0, 2]")
    assert grown < 64 * MB + 16 * size  # RSS also counts freed-but-kept pages


def test_limits_from_env_in_the_cli(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setenv("METACORE_MAX_FILE_MB", "0.001")  # 1 KB
    big = tmp_path / "big.csv"
    big.write_text("text,label\n" + "".join(f"row {i},{'ab'[i % 2]}\n" for i in range(200)))
    assert main(["validate", str(big)]) == 2
    assert "more than the limit of 1.0 KB" in capsys.readouterr().out
    monkeypatch.setenv("METACORE_MAX_FILE_MB", "")
    monkeypatch.setenv("METACORE_MAX_ROWS", "50")
    assert main(["validate", str(big)]) == 2
    assert "more than 50 rows" in capsys.readouterr().out
    monkeypatch.setenv("METACORE_MAX_ROWS", "lots")
    assert main(["validate", str(big)]) == 2
    assert "METACORE_MAX_ROWS must be a positive number" in capsys.readouterr().err


def test_limits_from_env_reads_every_variable() -> None:
    env = {"METACORE_MAX_FILE_MB": "1.5", "METACORE_MAX_ROWS": "10",
           "METACORE_MAX_CLASSES": "3", "METACORE_MAX_TEXT_CHARS": "80"}
    assert Limits.from_env(env) == Limits(max_file_bytes=int(1.5 * MB), max_rows=10,
                                          max_classes=3, max_text_chars=80)
    assert Limits.from_env({}) == Limits()
    for bad in ("0", "-3", "nan", "x"):
        with pytest.raises(ValueError, match="METACORE_MAX_CLASSES"):
            Limits.from_env({"METACORE_MAX_CLASSES": bad})


def test_streamlit_upload_limit_matches_the_engine() -> None:
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] * MB == Limits().max_file_bytes


# --- the Data page -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data_page(tmp_path_factory):
    """One app session on the Data page, switched to "Upload a file"."""
    from streamlit.testing.v1 import AppTest

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("METACORE_HOME", str(tmp_path_factory.mktemp("home")))
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.run()
        at.radio(key="data_source").set_value("upload").run()
        yield at


def _upload(at, name: str, raw: bytes):
    at.file_uploader(key="data_upload").set_value((name, raw, "application/octet-stream"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["dataset"]["name"] == name
    return at


PAGE_CASES = [c for c in CASES if not c.load]


@pytest.mark.parametrize("case", PAGE_CASES, ids=case_id)
def test_data_page_every_corpus_file(data_page, case) -> None:
    at = _upload(data_page, case.name, (BAD / case.name).read_bytes())
    data = load_dataset(BAD / case.name)
    from ui.i18n import say  # the app's wording (its column picker where the CLI names flags)

    errors = [say(f, markdown=False) for f in data.findings if f.level == "error"]
    said = _shown(at.error)
    if case.ok:
        assert not said, said
        assert at.metric[0].label == "Examples"
        if case.rows >= 0:
            assert at.metric[0].value == f"{case.rows:,}"
    else:
        assert errors and any(e.startswith(errors[0]) for e in said)
        assert not at.metric  # no overview of unusable data
    warnings = _shown(at.warning)
    for finding in data.findings:  # the page adds the rows after the sentence
        if finding.level == "warning":
            assert any(w.startswith(say(finding, markdown=False)) for w in warnings), \
                finding.code


def test_data_page_big_files(data_page, big_files) -> None:
    at = _upload(data_page, "one_mb_text.csv", big_files["one_mb_text"].read_bytes())
    assert any("longer than 2,000 characters" in w for w in _shown(at.warning))
    assert at.metric[0].value == "4"
    at = _upload(data_page, "rows_500k.csv", big_files["rows_500k"].read_bytes())
    assert any("more than 200,000 rows" in e for e in _shown(at.error))
    at = _upload(data_page, "classes_5000.csv", big_files["classes_5000"].read_bytes())
    assert any("5,000 different labels" in e for e in _shown(at.error))


def test_data_page_applies_the_operators_file_limit(data_page, monkeypatch) -> None:
    monkeypatch.setenv("METACORE_MAX_FILE_MB", "0.001")
    raw = ("text,label\n" + "".join(f"text {i},{'ab'[i % 2]}\n" for i in range(300))).encode()
    at = _upload(data_page, "over_limit.csv", raw)
    assert any("more than the limit of 1.0 KB" in e for e in _shown(at.error))


def _shown(elements) -> list[str]:
    return [shown(e.value) for e in elements]  # as the reader sees them


def test_data_page_stops_hostile_files_at_the_limits(data_page, monkeypatch) -> None:
    """The page parses through the same budgets as the CLI: each file ends in its finding."""
    start = time.perf_counter()
    at = _upload(data_page, "deep.json", hostile.deep_json(200_000))
    assert any("nested too deeply" in e for e in _shown(at.error))
    at = _upload(data_page, "wide.csv", hostile.csv_wide_header(100_000))
    assert any("100,000 columns, more than the limit of 1,000" in e for e in _shown(at.error))
    monkeypatch.setenv("METACORE_MAX_UNZIPPED_MB", "0.5")
    at = _upload(data_page, "bomb.xlsx", hostile.shared_strings_bomb(1))
    assert any("more than the limit of 512.0 KB" in e for e in _shown(at.error))
    monkeypatch.setenv("METACORE_MAX_PARSE_S", "0.000001")
    at = _upload(data_page, "slow.csv", b"text,label\n" + b"some text,a\nmore text,b\n" * 500)
    assert any("took longer than 1e-06 seconds" in e for e in _shown(at.error))
    assert not at.metric and time.perf_counter() - start < 60


def test_data_page_names_a_bad_limit_variable(data_page, monkeypatch) -> None:
    monkeypatch.setenv("METACORE_MAX_CELLS", "1e400")
    at = _upload(data_page, "fine.csv", b"text,label\nhello,a\nbye,b\n")
    assert any(e.startswith("METACORE_MAX_CELLS is '1e400'") for e in _shown(at.error))
    assert not at.exception


def test_upload_is_stored_under_the_apps_home_only(data_page) -> None:
    at = _upload(data_page, "../../escape me.csv", b"text,label\na,x\nb,y\n")
    path = Path(at.session_state["dataset"]["path"])
    assert path.name == "escape_me.csv"
    uploads = Path(os.environ["METACORE_HOME"]).resolve() / "uploads"
    assert path.resolve().is_relative_to(uploads)
