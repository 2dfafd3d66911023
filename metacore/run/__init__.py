"""Running plans: one runner for both protocols (``run``), the data they share (``prepare``),
and the one queue every job of the app goes through (``metacore.run.queue``)."""

from __future__ import annotations

from metacore.run.adapt import AdaptProtocol, PreparedData
from metacore.run.runner import describe_error, new_run_id, prepare, protocol_of, run
from metacore.run.unseen import EpisodicData, UnseenProtocol

__all__ = ["AdaptProtocol", "EpisodicData", "PreparedData", "UnseenProtocol", "describe_error",
           "new_run_id", "prepare", "protocol_of", "run"]
