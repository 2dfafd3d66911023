"""One torch thread for these tests: the tiny models gain nothing from more, and on a machine
whose cores are busy, OpenMP threads waiting for each other multiply the time (measured: the
determinism tests took 108 s with 2 threads and 19 s with 1 on 2 shared cores)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
