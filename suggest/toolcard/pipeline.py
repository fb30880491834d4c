"""Each task's pipeline as it runs: the ranker it loads for the configured backend (file,
checksum, features, calibration), and what kind of tool the configured backend makes this."""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

from suggest.backends.base import BackendInfo
from suggest.ranking.model import Ranker, RankerError, ranker_path
from suggest.ranking.thresholds import REPO_ROOT

HOSTING_WORDS = {"local": "run inside the tool's own process",
                 "community": "hosted on community infrastructure",
                 "external": "served by an external provider"}


def _declared_pipeline(task: Any) -> dict[str, Any]:
    """The task's own description of its pipeline, else what its module states (its v1 weights)."""
    described = getattr(task, "pipeline", None)
    if callable(described):
        described = described()
    if isinstance(described, dict):
        return dict(described)
    module = sys.modules.get(type(task).__module__)
    doc = inspect.getdoc(module) or ""
    weights = getattr(module, "WEIGHTS", None)
    limits = {name.lower(): getattr(module, name) for name in ("MAX_LINKS", "SIMILAR_ARTICLES",
                                                               "LEAD_CHARS") if hasattr(module, name)}
    return {
        "candidate_sources": _plain(doc.split("\n\n")[1] if "\n\n" in doc else doc),
        "features": sorted(k for k in weights if k != "bias") if isinstance(weights, dict) else [],
        "ranker": ("logistic score with fixed weights " + json.dumps(weights)) if weights else
                  "see the task module",
        "limits": limits,
    }


def _plain(docstring: str) -> str:
    """A docstring paragraph as plain text: one line, without reStructuredText's roles
    (``:mod:`x` `` -> ``x``) and literal quotes (````x```` -> ``x``)."""
    text = re.sub(r":[a-z]+:`([^`]*)`", r"\1", docstring.replace("\n", " "))
    return " ".join(text.replace("``", "").split())


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT.resolve()))
    except ValueError:
        return str(path)


def _ranker_model(task: Any, ranker: Ranker) -> dict[str, Any]:
    """What the ranker file a task loads says about itself."""
    document = ranker.document
    trained_for = document["backend"] if isinstance(document.get("backend"), dict) else {}
    calibration = document["calibration"] if isinstance(document.get("calibration"), dict) else {}
    path = ranker_path(str(trained_for.get("id")), getattr(task, "ranker_dir", None), ranker.task)
    return {
        "file": _shown_path(path), "checksum": ranker.checksum, "model": document.get("model"),
        "features": list(ranker.features),
        "calibration": f"{calibration.get('method', 'isotonic')}, {len(ranker.calibration_x)} points",
        "trained_for_backend": trained_for.get("id"), "backend_checksum": trained_for.get("checksum"),
        "linked": document.get("linked"),
    }


def _ranker_text(model: dict[str, Any], backend_id: str) -> str:
    text = (f"{model['model']}: {model['file']} ({model['checksum']}), "
            f"{len(model['features'])} features; calibration: {model['calibration']}")
    if model["trained_for_backend"] != backend_id:
        text += (f"; no ranker is trained for backend {backend_id}: the one trained for "
                 f"{model['trained_for_backend']} scores its candidates")
    linked = model.get("linked")
    if isinstance(linked, dict):
        text += (f"; linked articles' references: ordered by {linked.get('order')}, each with the "
                 f"probability {linked.get('probability')} (why: {linked.get('why')})")
    return text


def task_pipeline(task: Any, info: BackendInfo, backend: Any) -> dict[str, Any]:
    """The task's pipeline with the ranker it actually runs for the configured backend: the
    trained ranker file (checksum, features, calibration), else the fixed-weight fallback."""
    base = _declared_pipeline(task)
    find = getattr(task, "ranker", None)
    try:
        ranker = find(backend) if callable(find) else None
    except (OSError, RankerError) as error:
        return {**base, "ranker_model": None,
                "ranker": f"the ranker file for backend {info.id} is unusable ({error}): requests fail"}
    if ranker is None:
        return {**base, "ranker_model": None,
                "ranker": f"{base['ranker']} (fallback: no ranker is trained for backend {info.id})"}
    model = _ranker_model(task, ranker)
    return {**base, "features": model["features"], "ranker": _ranker_text(model, info.id),
            "ranker_model": model}


def describe_kind(info: BackendInfo) -> str:
    """What the tool is, from the configured backend's own description."""
    hosting = HOSTING_WORDS.get(info.hosting_tier, info.hosting_tier)
    return (f"A suggestion tool: its own trained rankers score candidates, using text similarities "
            f"from the configured backend {info.id}, {info.model} (licence {info.licence}; {hosting}); "
            "it proposes, people decide.")
