"""The tool card, built at request time from the running tool (never maintained by hand).

Sources: the live configuration, the tasks' own definitions and the ranker files they load, the
backends' ``BackendInfo``, the latest committed evaluation results under ``eval/``, the evaluated
thresholds file, the community pages read so far, pauses and the audit log from the store, reviewer
labels, and the live metrics when ``suggest.metrics`` provides them.

``card`` builds it (:func:`build_card`), ``wikitext`` renders it for Meta-Wiki
(:func:`to_wikitext`); ``evaluation``, ``pipeline`` and ``governance`` each read one part of it,
and ``format`` says how its figures are printed.
"""

from suggest.toolcard.card import BROWSER_OUTBOX, REQUIRED_KEYS, build_card
from suggest.toolcard.evaluation import load_evaluations
from suggest.toolcard.format import (
    cell,
    misses_by_wiki,
    plain_value,
    rate_cell,
    reviewer_precision,
    target_text,
)
from suggest.toolcard.pipeline import describe_kind
from suggest.toolcard.wikitext import to_wikitext

__all__ = ["BROWSER_OUTBOX", "REQUIRED_KEYS", "build_card", "cell", "describe_kind", "load_evaluations",
           "misses_by_wiki", "plain_value", "rate_cell", "reviewer_precision", "target_text",
           "to_wikitext"]
