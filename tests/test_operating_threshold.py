"""Which threshold a wiki runs with: configured per wiki > evaluated for the backend > global."""

from __future__ import annotations

import json
from pathlib import Path

from suggest.ranking.thresholds import operating_threshold


def test_configured_evaluated_and_global_thresholds(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.json"
    path.write_text(json.dumps({"by_backend": {"categories": {"tfidf": {"ukwiki": 0.62, "bnwiki": 0.8}}}}))
    config = {"BACKEND": "tfidf", "THRESHOLDS_PATH": str(path), "THRESHOLD": 0.45,
              "WIKIS": {"bnwiki": {"THRESHOLD": 0.9}, "UKWIKI": {"THRESHOLD": 0.7}}}
    evaluated_only = {**config, "WIKIS": {}}
    assert operating_threshold(evaluated_only, "categories", "ukwiki") == 0.62
    assert operating_threshold(config, "categories", "bnwiki") == 0.9
    # an environment variable's upper-case id counts as a per-wiki setting too
    assert operating_threshold(config, "categories", "ukwiki") == 0.7
    assert operating_threshold(config, "categories", "viwiki") == 0.45
