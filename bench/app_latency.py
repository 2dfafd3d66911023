"""How long a workshop user waits: Start on Train & compare -> full leaderboard on Results.

Drives Debian's Chromium through Playwright against ``streamlit run app.py`` on a free loopback
port with a fresh METACORE_HOME, on the bundled English intents sample with the default
comparison (linear-probe + protonet + full-finetune, bundled MiniLM, K=8, seed 0):

1. plain: click Start, wait for "See the results", open Results, wait for all three rows;
2. reload: the same, but the page is reloaded ~5 s after Start and the user navigates back to
   Train & compare; the runs must still complete and be found, then Results as above.

A screenshot of the live curves is taken mid-run (docs/screenshots/train_live.png). With
``--breakdown`` the same three runs are also timed through the runner (``metacore.run``)
alone, phase by phase (backbone load, training incl. embedding, prediction, projection). Prints
the times and writes bench/results/app_latency.json with the load average before and after.

    python bench/app_latency.py [--breakdown] [--no-screenshot]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, machine, write_json  # noqa: E402
from tests.browser.server import start_app, stop_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync"]
METHODS = ["linear-probe", "protonet", "full-finetune"]
SAMPLE = "support_intents_en.csv"
MS = 1_500_000  # a loaded 2-core machine can take minutes


def settle(page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=MS)


def nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for()  # a loaded CPU starts late
    settle(page)


def open_train(page, url: str) -> str:
    """Data page with the English sample, then Train & compare with the default methods;
    returns the page's estimate of the whole comparison ("All 3 runs: about …")."""
    page.goto(url)
    box = page.locator(".st-key-data_sample")
    box.wait_for()
    settle(page)
    if SAMPLE not in box.inner_text():
        box.click()
        page.get_by_role("option", name=SAMPLE).click()
        settle(page)
    nav(page, "Train & compare")
    page.get_by_text("Rough estimates for").wait_for()  # the backbone is loaded by now
    chosen = page.locator(".st-key-train_methods").inner_text()
    missing = [m for m in METHODS if m not in chosen]
    if missing:
        raise SystemExit(f"The default comparison lacks {missing}: {chosen!r}")
    total = page.get_by_text("runs: ~")
    return total.first.inner_text() if total.count() else ""


def wait_for_leaderboard(page, t0: float, marks: dict[str, float]) -> None:
    """"See the results" appears once every run has ended; Results then lists all three (the
    grid is a canvas, so the rows are read from the bar chart's labels)."""
    page.get_by_role("button", name="See the results").wait_for(timeout=MS)
    marks["all_runs_ended_s"] = time.perf_counter() - t0
    page.get_by_role("button", name="See the results").click()
    page.get_by_role("heading", name="Leaderboard").wait_for(timeout=MS)
    labels = page.locator(".js-plotly-plot text")  # the bar chart's run labels
    deadline = time.time() + MS / 1000
    while not all(m in " ".join(labels.all_text_contents()) for m in METHODS):
        if time.time() > deadline:
            raise SystemExit("the leaderboard never showed all three runs")
        page.wait_for_timeout(100)
    marks["leaderboard_s"] = time.perf_counter() - t0


def start(page) -> float:
    """Click Start; the clock starts at the click. The job cards must appear."""
    page.get_by_role("button", name="Start comparison").click()
    t0 = time.perf_counter()
    page.locator('[class*="st-key-job_"]').first.wait_for(timeout=120_000)
    return t0


def plain_pass(page, url: str, screenshot: Path | None) -> dict[str, float]:
    estimate = open_train(page, url)
    t0, marks = start(page), {"estimate_shown": estimate}
    if screenshot is not None:
        shoot_live(page, screenshot)
        marks["screenshot_s"] = time.perf_counter() - t0
    wait_for_leaderboard(page, t0, marks)
    return marks


def reload_pass(page, url: str) -> dict[str, float]:
    open_train(page, url)
    t0, marks = start(page), {}
    page.wait_for_timeout(5000)
    page.reload()
    page.get_by_role("heading", name="Train & compare", exact=True).wait_for()
    marks["reloaded_s"] = time.perf_counter() - t0
    nav(page, "Results")  # while the runs go on, Results says they are still running
    nav(page, "Train & compare")
    page.locator('[class*="st-key-job_"]').first.wait_for(timeout=MS)  # found again
    marks["found_again_s"] = time.perf_counter() - t0
    wait_for_leaderboard(page, t0, marks)
    return marks


def run_timings(home: Path) -> list[dict]:
    """What each run itself took (engine time), from the store of that pass."""
    from metacore.runs.store import RunStore

    store = RunStore(home)
    out = []
    for summary in reversed(store.list_runs()):
        timing = store.get(summary.run_id).timing
        out.append({"method": summary.method, "status": summary.status,
                    **{k: round(v, 2) for k, v in timing.items()}})
    return out


def shoot_live(page, path: Path) -> None:
    """The cards mid-run: once full fine-tuning is a third through, with loss and validation
    curves drawn (the last run of the comparison, so its card is in view with the others)."""
    cards = page.locator('[class*="st-key-job_"]')
    deadline = time.time() + MS / 1000
    while time.time() < deadline:
        texts = [t for t in cards.all_inner_texts() if t.startswith("full-finetune")]
        found = re.search(r"step (\d+) of (\d+)", texts[0]) if texts else None
        if found and int(found[1]) >= int(found[2]) / 3:
            break
        if texts and "completed" in texts[0]:
            break  # too fast to catch: shoot the finished cards instead
        page.wait_for_timeout(250)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1850})
    page.wait_for_timeout(1200)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def browser_passes(screenshot: Path | None) -> dict[str, dict]:
    from playwright.sync_api import sync_playwright

    out = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name, run in (("plain", lambda pg, u: plain_pass(pg, u, screenshot)),
                          ("reload", reload_pass)):
            home = Path(tmp) / name
            proc, url = start_app(home)  # fresh METACORE_HOME and process
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(MS)
                load = os.getloadavg()[0]
                try:
                    marks = {k: round(v, 1) if isinstance(v, float) else v
                             for k, v in run(page, url).items()}
                except Exception:
                    page.screenshot(path=f"/tmp/app_latency_{name}_failed.png", full_page=True)
                    raise
                out[name] = {**marks, "loadavg_1min_before": round(load, 2),
                             "loadavg_1min_after": round(os.getloadavg()[0], 2),
                             "runs": run_timings(home)}
                engine = sum(r.get("total_s", 0) for r in out[name]["runs"])
                print(f"{name}: {marks['leaderboard_s']:.1f} s to the full leaderboard "
                      f"(runs ended at {marks['all_runs_ended_s']:.1f} s; the runs themselves "
                      f"took {engine:.1f} s; load {load:.2f} -> {os.getloadavg()[0]:.2f}) "
                      f"{marks.get('estimate_shown', '')}",
                      flush=True)
                page.close()
            finally:
                stop_app(proc)
        browser.close()
    return out


# The phases' names in bench/results/app_latency.json, from before phases were coded messages.
PHASE_NAMES = {"loading_backbone": "loading backbone", "meta_training": "meta-training"}


def breakdown() -> dict[str, dict[str, float]]:
    """The same runs through the runner alone, seconds per phase (PhaseChanged events)."""
    from metacore.backbones import load_backbone
    from metacore.plan import DataSource, ExperimentPlan
    from metacore.run import prepare, run
    from metacore.training.events import PhaseChanged, RunEnded

    t0 = time.perf_counter()
    backbone = load_backbone("minilm")
    out: dict[str, dict[str, float]] = {"backbone": {"load_s": time.perf_counter() - t0}}
    data = str(ROOT / "sample_data" / SAMPLE)
    plan = ExperimentPlan(methods={m: {} for m in METHODS}, data=DataSource(path=data),
                          shots=(8,), seeds=(0,))
    prepared = prepare(plan)
    for one in plan.runs():
        method = one.method
        marks: list[tuple[str, float]] = []

        def mark(event, marks=marks) -> None:
            if isinstance(event, PhaseChanged | RunEnded):
                name = getattr(event, "phase", "end")
                marks.append((PHASE_NAMES.get(name, name), time.perf_counter()))

        start = time.perf_counter()
        result = run(plan, one, prepared=prepared, backbone=backbone, callbacks=[mark])
        phases: dict[str, float] = {}
        for (name, at), (_, nxt) in zip(marks, marks[1:], strict=False):
            phases[name] = phases.get(name, 0.0) + nxt - at
        phases["total_s"] = time.perf_counter() - start
        phases["steps"] = len(result.history.get("steps", []))
        phases["evaluations"] = len(result.history.get("evals", []))
        train = phases.get("meta-training", phases.get("training", 0.0))
        phases["s_per_step"] = train / phases["steps"] if phases["steps"] else 0.0
        phases["macro_f1"] = result.metrics.get("macro_f1", float("nan"))
        out[method] = {k: round(v, 2) for k, v in phases.items()}
        print(method, out[method], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--breakdown", action="store_true",
                        help="also time each phase through the runner (no browser)")
    parser.add_argument("--no-screenshot", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()
    shot = None if args.no_screenshot else ROOT / "docs" / "screenshots" / "train_live.png"
    passes = browser_passes(shot)
    times = {f"{name}_s": marks["leaderboard_s"] for name, marks in passes.items()}
    payload = {"times_s": times, "passes": passes, "goal_s": 60, "methods": METHODS,
               "sample": SAMPLE, "shots": 8, "seed": 0, "backbone": "minilm",
               "loadavg_before": [round(x, 2) for x in load_before],
               "loadavg_after": [round(x, 2) for x in os.getloadavg()],
               "machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    if args.breakdown:
        payload["breakdown_s"] = breakdown()
        payload["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    path = write_json("app_latency.json", payload)
    print(f"plain {times['plain_s']} s, reload {times['reload_s']} s (goal 60 s); load "
          f"average {payload['loadavg_before']} -> {payload['loadavg_after']}; wrote {path}")


if __name__ == "__main__":
    main()
