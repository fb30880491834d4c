"""The evaluated per-wiki operating thresholds (``suggest/data/thresholds.json``) for a backend."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from suggest.ranking.model import DATA_DIR

REPO_ROOT = DATA_DIR.parent.parent
log = logging.getLogger(__name__)


def load(path: str | Path | None) -> dict[str, Any]:
    """The evaluation's thresholds file, or ``{}`` when there is none (or it is unreadable)."""
    if not path:
        return {}
    file = Path(path)
    file = file if file.is_absolute() or file.is_file() else REPO_ROOT / file
    if not file.is_file():
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        log.warning("evaluated thresholds unreadable (%s): ignored", type(error).__name__)
        return {}
    return data if isinstance(data, dict) else {}


def evaluated(data: dict[str, Any], task: str, backend: str, wiki: str) -> float | None:
    """The threshold the evaluation chose for (task, backend, wiki), or None when it has none."""
    per_backend = data.get("by_backend", {}).get(task, {}).get(backend, {})
    value = per_backend.get(wiki) if isinstance(per_backend, dict) else None
    if value is None and data.get("backend", {}).get(task, backend) == backend:
        value = data.get("tasks", {}).get(task, {}).get(wiki)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def operating_threshold(config: dict[str, Any], task: str, wiki: str) -> float:
    """A threshold configured for the wiki wins; else the evaluated one for the configured backend;
    else the global THRESHOLD."""
    from suggest.config import wiki_overrides, wiki_setting

    configured = float(wiki_setting(config, wiki, "THRESHOLD"))
    if any(key in wiki_overrides(config, wiki) for key in ("THRESHOLD", "threshold")):
        return configured
    found = evaluated(load(config.get("THRESHOLDS_PATH")), task, str(config.get("BACKEND")), wiki)
    return found if found is not None else configured
