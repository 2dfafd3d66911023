"""History's ONNX download in a real browser: a TF-IDF model comes as a checked zip whose graph
takes texts; a model ONNX cannot hold (SetFit's format) has its button disabled, the reason
as the button's help."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from tests.browser.support import CHROMIUM, app_server, browser_page, nav, settle

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")]
pytest.importorskip("onnxruntime", reason="the [onnx] extra is not installed")
ROW = 35  # the data grid's row height in pixels; its header is one row


def _runs(home: Path) -> None:
    """nearest-centroid, then tf-idf (History lists the newest first), shared so that the
    browser's session sees them."""
    from metacore.plan import DataSource, ExperimentPlan
    from metacore.run.queue import JobQueue
    from metacore.runs.store import RunStore

    store = RunStore(home)
    queue = JobQueue(store, save_models=True)
    data = DataSource(path=str(Path(__file__).parents[2] / "sample_data"
                               / "support_intents_en.csv"))
    for method in ("nearest-centroid", "tfidf-logreg"):
        plan = ExperimentPlan(methods={method: {}}, data=data, shots=(4,), backbone="tiny",
                              device="cpu")
        assert queue.wait(queue.submit(plan)).result.status == "completed"
    queue.shutdown()
    for run in store.list_runs():
        store.set_shared(run.run_id, True)
        if run.method == "nearest-centroid":  # SetFit's format, without a SetFit fit
            manifest = store.artifact_dir(run.run_id) / "model" / "metacore.json"
            manifest.write_text(json.dumps({**json.loads(manifest.read_text()),
                                            "method": "setfit", "format": "setfit"}))


def _select(page, row: int) -> None:
    grid = page.locator(".st-key-history_table")
    box = grid.bounding_box()
    x, y = box["x"] + 12, box["y"] + ROW * row + ROW // 2  # its selection box
    page.mouse.move(x, y)  # the grid takes a click once the pointer has been over it
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    settle(page)


def test_onnx_download_of_a_tfidf_model_and_the_reason_for_setfit(tmp_path):
    home = tmp_path / "home"
    _runs(home)
    with app_server(home, OMP_NUM_THREADS="1") as url, browser_page() as page:
        page.goto(url)
        settle(page)
        nav(page, "History")
        page.locator(".st-key-history_table").wait_for()
        settle(page)
        _select(page, 2)  # the older run, now a SetFit model: its button is disabled
        button = page.get_by_role("button", name="ONNX (zip)")
        assert not button.is_enabled()
        button.hover(force=True)
        page.get_by_text("SetFit keeps its own format").wait_for(timeout=10_000)
        _select(page, 2)  # unselected again
        _select(page, 1)  # tfidf-logreg: the zip comes, checked
        assert page.get_by_text("tfidf-logreg").count() > 0
        button = page.get_by_role("button", name="ONNX (zip)")
        assert button.is_enabled()
        with page.expect_download(timeout=180_000) as download:
            button.click()
        data = Path(download.value.path()).read_bytes()
        archive = zipfile.ZipFile(io.BytesIO(data))
        assert {"onnx/model.onnx", "onnx/example.py", "onnx/onnx.json"} <= set(
            archive.namelist())
        info = json.loads(archive.read("onnx/onnx.json"))
        assert info["method"] == "tfidf-logreg" and info["inputs"] == ["text"]
        assert info["checked_texts"] > 0 and info["same_prediction"] == 1.0
        assert info["max_abs_diff"] < 1e-5
