"""Session state and the per-process resources every browser session shares."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from metacore.runs.store import RunStore

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_data"
OWNER = "owner"
OWNER_COOKIE = "metacore_owner"
OWNER_COOKIE_S = 365 * 24 * 3600
_OWNER_ID = re.compile(r"^[0-9a-f]{24,64}$")  # secrets.token_hex(16) and nothing else
DATASET = "dataset"  # the chosen data file and split settings (plain dict)
COMPARISON = "comparison"  # run ids of the comparison started on Train & compare
RESULTS = "results_ids"  # run ids shown on the Results page
DEFAULT_SAMPLE = "support_intents_en.csv"
# The sample a session starts on, by the interface language (``?lang=zh``: the Chinese one).
DEFAULT_SAMPLES = {"en": DEFAULT_SAMPLE, "zh": "support_intents_zh.csv"}
# The chosen data lives in the URL, so a reload (a new session) keeps it:
# data=sample:<name> | upload:<hash>/<name>, text, label, test=<hash>/<name>, and
# split=<test share>,<validation share>,<seed>,<use the split column 1|0>.
_UPLOAD_KEY = re.compile(r"^[0-9a-f]{12}/[\w.\-]{1,80}$")


def home() -> str:
    """Where runs live; the cache key of the store and the queue (tests change it)."""
    return os.environ.get("METACORE_HOME", "")


def owner() -> str:
    """This browser's owner id (whose runs these are): from its cookie, so a reload keeps the
    runs, else a new random one that ``remember_owner`` puts in the cookie. It is never in the
    URL, where people share it: an old ``?owner=`` link is dropped from it and grants nothing."""
    if OWNER not in st.session_state:
        st.session_state[OWNER] = owner_from_cookies(_cookies()) or secrets.token_hex(16)
        if OWNER in st.query_params:
            del st.query_params[OWNER]
    return st.session_state[OWNER]


def owner_from_cookies(cookies: Mapping[str, str]) -> str | None:
    """The owner id the browser's cookie holds, or None when it has none (or a malformed one)."""
    given = cookies.get(OWNER_COOKIE, "")
    return given if isinstance(given, str) and _OWNER_ID.match(given) else None


def remember_owner() -> None:
    """Put this session's owner id in the browser's cookie (SameSite=Strict, path /, a year),
    written by a one-line script in the page: Streamlit cannot set a cookie from the server,
    so it cannot be HttpOnly. Only while the cookie the session started with differs."""
    owner_id = owner()
    if owner_from_cookies(_cookies()) == owner_id or not _OWNER_ID.match(owner_id):
        return  # kept already, or not an id this module made (a test's "alice")
    st.html(cookie_script(owner_id), unsafe_allow_javascript=True)


def cookie_script(owner_id: str) -> str:
    """The one-line script that stores ``owner_id`` in the cookie; anything but an id that
    ``secrets.token_hex`` could have made is refused, so nothing else reaches the script."""
    if not _OWNER_ID.match(owner_id):
        raise ValueError("not an owner id")
    return (f"<script>document.cookie = '{OWNER_COOKIE}={owner_id}; path=/; "
            f"max-age={OWNER_COOKIE_S}; SameSite=Strict' + "
            "(location.protocol === 'https:' ? '; Secure' : '');</script>")


def _cookies() -> Mapping[str, str]:
    """The cookies the browser sent when this session connected (none in AppTest)."""
    try:
        return st.context.cookies.to_dict()
    except Exception:  # noqa: BLE001 - no session client (AppTest, bare mode): none
        return {}


@st.cache_resource(show_spinner=False)
def _store(root: str) -> RunStore:
    # An unreadable runs.sqlite is moved aside and rebuilt from the runs' result.json files
    # (store.notices says so; store_notices() shows it once per session).
    store = RunStore(root or None)
    store.mark_interrupted()  # runs a previous process left "running" can never finish
    try:
        from metacore.runs.retention import apply_policy

        apply_policy(store)  # old models and uploads beyond the quotas
    except Exception:  # noqa: BLE001 - a bad setting is shown in History; nothing is deleted
        pass
    return store


def store() -> RunStore:
    return _store(home())


STORE_NOTICES_SEEN = "store_notices_seen"


def store_notices() -> list[Any]:
    """What opening the run store repaired (coded messages), the first time a session asks."""
    if st.session_state.get(STORE_NOTICES_SEEN):
        return []
    st.session_state[STORE_NOTICES_SEEN] = True
    return list(store().notices)


@st.cache_resource(show_spinner=False)
def _queue(root: str) -> Any:
    from metacore.run.queue import JobQueue

    # The worker loads through metacore.backbones.load_backbone, cached per process, so the
    # worker and the pages share one copy of each backbone; checked_loader refuses what the
    # operator does not allow even if a spec got past the page. METACORE_RAY_ADDRESS makes a
    # Ray cluster the queue's backend for runs ("auto": the cluster this machine is part of;
    # "local": a Ray started here): README, "Sweeps past one machine".
    remote = None
    address = os.environ.get("METACORE_RAY_ADDRESS", "").strip()
    if address:
        from metacore.run.ray_backend import RayRunner

        remote = RayRunner(None if address == "local" else address)
    return JobQueue(_store(root), save_models=True, backbone_loader=checked_loader,
                    remote=remote)


def queue() -> Any:
    """The one background worker queue of this process (all sessions share it)."""
    return _queue(home())


def backbone(spec: str, allow_download: bool = False) -> Any:
    """A backbone loaded once per process; methods deep-copy it before training.

    Raises ``BackboneError`` (a ``ValueError``) for a folder outside the operator's allow-list
    or a hub id that is not cached while downloads are off (``metacore.security``).
    """
    return _backbone(check_backbone(spec, allow_download), allow_download)


def check_backbone(spec: str, allow_download: bool = False) -> str:
    """What a user of this server may load; the CLI has no such check (its user owns the
    machine). Raises ``BackboneError`` in one sentence."""
    from metacore.security import allowed_model_dirs, check_backbone_spec

    return check_backbone_spec(spec, allowed_dirs=allowed_model_dirs(),
                               allow_download=allow_download)


def checked_loader(spec: str, allow_download: bool) -> Any:
    """The worker's backbone loader: the same check, then the per-process cache."""
    from metacore.backbones import load_backbone

    return load_backbone(check_backbone(spec, allow_download), allow_download=allow_download)


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def _backbone(spec: str, allow_download: bool = False) -> Any:
    from metacore.backbones import load_backbone

    return load_backbone(spec, allow_download=allow_download)


def comparison() -> list[str]:
    """Run ids of this session's latest comparison. After a reload (a new session with the
    same owner) they are found again in the queue, so running jobs keep their live view."""
    if COMPARISON not in st.session_state:
        group = _latest_group()
        st.session_state[COMPARISON] = [] if group is None else [
            j.job_id for j in queue().jobs(owner=owner(), group=group)]
    return st.session_state[COMPARISON]


def comparison_plan() -> Any:
    """The plan this owner's latest comparison was submitted with (restored into the form
    after a reload), or None."""
    group = _latest_group()
    return None if group is None else queue().group_plan(group)


def _latest_group() -> str | None:
    try:
        jobs = queue().jobs(owner=owner(), kind="run")
    except Exception:  # noqa: BLE001 - no queue yet: nothing to find
        return None
    return jobs[-1].group if jobs and jobs[-1].group else None


def default_sample() -> str:
    """The intents sample in the interface language, for a session that has chosen none."""
    from ui.i18n import language

    name = DEFAULT_SAMPLES.get(language(), DEFAULT_SAMPLE)
    return name if (SAMPLES / name).is_file() else DEFAULT_SAMPLE


def dataset() -> dict[str, Any]:
    """The chosen data and split settings: from the URL after a reload, else the intents
    sample in the interface language (``default_sample``) until one is chosen."""
    if DATASET not in st.session_state:
        sample = default_sample()
        data = {
            "kind": "sample", "path": str(SAMPLES / sample), "name": sample,
            "text_col": None, "label_col": None, "label_format": None, "test_path": None,
            "test_name": None,
            "test_size": 0.2, "val_size": 0.1, "seed": 0, "use_split_column": True,
        }
        _restore_dataset(data, st.query_params)
        st.session_state[DATASET] = data
    return st.session_state[DATASET]


def _upload_path(key: str) -> Path | None:
    """An earlier upload named by ``<hash>/<name>``; None if malformed or gone."""
    if not _UPLOAD_KEY.match(key or ""):
        return None
    path = uploads_dir() / key
    return path if path.is_file() else None


def _restore_dataset(data: dict[str, Any], params: Any) -> None:
    """Fill ``data`` from URL params; anything malformed or missing keeps its default."""
    kind, _, value = params.get("data", "").partition(":")
    if kind == "sample" and (SAMPLES / value).is_file() and "/" not in value:
        data.update(path=str(SAMPLES / value), name=value)
    elif kind == "upload" and (path := _upload_path(value)) is not None:
        data.update(kind="upload", path=str(path), name=path.name)
    else:
        return  # nothing (or nothing usable) remembered: columns would not fit the default
    for key, param in (("text_col", "text"), ("label_col", "label")):
        data[key] = params.get(param) or None
    if (test := _upload_path(params.get("test", ""))) is not None:
        data.update(test_path=str(test), test_name=test.name)
    try:
        test_size, val_size, seed, use_column = params.get("split", "").split(",")
        if 0.05 <= float(test_size) <= 0.5 and 0.0 <= float(val_size) <= 0.3:
            data.update(test_size=float(test_size), val_size=float(val_size),
                        seed=min(10_000, abs(int(seed))), use_split_column=use_column == "1")
    except ValueError:
        pass


def remember_dataset() -> None:
    """Write the chosen data and its settings to the URL (only what changed)."""
    data = dataset()
    uploads = uploads_dir()

    def key(path: str | None) -> str:
        try:
            return Path(path).relative_to(uploads).as_posix() if path else ""
        except ValueError:  # not under uploads/ (a test, or a path given by hand)
            return ""

    source = f"sample:{data['name']}" if data["kind"] == "sample" else \
        f"upload:{key(data['path'])}"
    wanted = {"data": source, "text": data["text_col"] or "", "label": data["label_col"] or "",
              "test": key(data["test_path"]),
              "split": f"{data['test_size']:g},{data['val_size']:g},{data['seed']},"
                       f"{int(bool(data['use_split_column']))}"}
    for name, value in wanted.items():
        if value and st.query_params.get(name) != value:
            st.query_params[name] = value
        elif not value and name in st.query_params:
            del st.query_params[name]


def uploads_dir() -> Path:
    path = store().root / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


@st.cache_data(show_spinner=False)
def _device() -> tuple[str, int, str]:
    """(device type, CPU threads, the engine's description), looked up once per process."""
    import torch

    from metacore.training.device import describe_device, resolve_device

    device = resolve_device("auto")
    return device.type, torch.get_num_threads(), describe_device(device)


def device_label() -> str:
    """The device runs train on, in the session's language (the GPU's own name as is)."""
    from ui.i18n import t

    kind, threads, described = _device()
    if kind == "cpu":
        return t("device.cpu", threads=threads)
    if kind == "mps":
        return t("device.mps")
    return described
