"""Logging set-up shared by the scripts: the job's log file and stderr, one format."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def setup(log_file: str | None = None, level: int = logging.INFO) -> logging.Logger:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers, force=True)
    for noisy in ("fontTools", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return logging.getLogger("presyn")


def log_errors(logger: logging.Logger):
    """Context-free decorator: log the exception (so it lands in the job log) then re-raise."""

    def wrap(fn):
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception:
                logger.exception("failed")
                raise

        return inner

    return wrap
