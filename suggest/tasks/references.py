"""References task: propose a source for a statement that needs one.

Statements: sentences marked with the wiki's citation-needed templates (first), then sentences of
paragraphs that cite nothing (lower priority). Candidates: the references already in the article
(reused by name) and the references of the articles it links to, each with the sentences it supports
there. Each (statement, candidate) pair is scored through the backend: the statement against the
candidate's fields and against the sentences it supports, plus where in the article it is already
cited (:mod:`suggest.tasks.reference_features`). A learned, calibrated ranker per backend
(``suggest/data/references-ranker-<backend>.json``, fitted on the train split by
``python -m suggest.evaluate --task references --train``) turns them into a probability.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mwparserfromhell
import numpy as np

from suggest.backends.base import Backend
from suggest.config import DEFAULTS
from suggest.ranking.model import DATA_DIR, Ranker, load_ranker, rankers_digest
from suggest.tasks.base import Reason, Suggestion, TaskSettings
from suggest.tasks.reference_features import (
    FEATURES,
    HAND_WEIGHTS,
    MAX_SUPPORT,
    Candidate,
    EmbeddingCache,
    feature_rows,
)
from suggest.tasks.reference_features import scores as reference_scores
from suggest.wiki import references as refs
from suggest.wiki.source import Page, PageSource

__all__ = ["FEATURES", "HAND_WEIGHTS", "MAX_SUPPORT", "Candidate", "EmbeddingCache", "ReferencesTask",
           "citation_needed_names", "wiki_language"]

MAX_LINKED = 30  # linked articles whose references are candidates (in link order)
MAX_PER_LINKED = 40  # references taken from one linked article
MAX_CITATION_NEEDED = 10
MAX_UNSOURCED = 8
MIN_STATEMENT_CHARS = 25
PER_STATEMENT = 2  # suggestions for one statement at most
UNSOURCED_FACTOR = 0.8  # a statement without a citation-needed mark is less urgent
NOT_PROSE = ("[http:", "[https:", "[//", "{|", "|", "!")  # an external link's title, table markup

FALLBACK_BACKEND = "tfidf"  # whose ranker scores a backend that has none of its own


def citation_needed_names(lang: str | None, config: dict[str, Any] | None = None) -> list[str]:
    """The wiki's citation-needed templates and their redirects (configuration)."""
    table = (config or DEFAULTS).get("CITATION_NEEDED") or DEFAULTS["CITATION_NEEDED"]
    lang = lang or ""
    # TOOL_CITATION_NEEDED__UK='[...]' arrives as the key "UK": both spellings count.
    keys = dict.fromkeys((lang, lang.lower(), lang.upper(), "default", "DEFAULT"))
    return list(dict.fromkeys(name for key in keys if key for name in table.get(key) or []))


def wiki_language(source: PageSource) -> str | None:
    wiki = getattr(source, "wiki", None)
    if wiki is not None and getattr(wiki, "lang", None):
        return str(wiki.lang)
    dbname = str(getattr(source, "dbname", "") or source.wiki_id)
    return dbname.removeprefix("fixture-").removeprefix("sample-").removesuffix("wiki") or None


def listed_domains(never_suggest: frozenset[str]) -> frozenset[str]:
    """The never-suggest entries read as domains (any case, without surrounding dots)."""
    return frozenset(entry.strip().lower().strip(".") for entry in never_suggest)


def blocked(reference: refs.Reference, never_suggest: frozenset[str], domains: frozenset[str]) -> bool:
    """Whether a reference is on the never-suggest list: by its label (the pairs rejected on the
    page come as labels), or by its URL's host, a listed domain or a subdomain of one (the
    community's ``reference_domains``; ``domains`` from :func:`listed_domains`, read once per
    request)."""
    if not never_suggest:
        return False
    if reference.label in never_suggest:
        return True
    try:
        host = (urlsplit(reference.url).hostname or "").rstrip(".") if reference.url else ""
    except ValueError:  # a malformed URL in the wikitext
        host = ""
    while host:
        if host in domains:
            return True
        host = host.partition(".")[2]
    return False


def portable(reference: refs.Reference) -> bool:
    """Whether a linked article's reference can be copied here as it is: not a note of a named
    group (no such group here: a Cite error), not a short citation whose source is in that
    article's bibliography ({{harvnb|Smith|2000}}: a link to nothing here)."""
    return not reference.group and not any(
        refs.template_key(str(t.name)).casefold() in refs.SHORT_CITATIONS
        for t in mwparserfromhell.parse(reference.body).filter_templates(recursive=True))


def placement(article: refs.ArticleReferences, index: int) -> tuple[str, str | None]:
    """(anchor, replace): the reference goes right after the anchor, in place of ``replace``.
    A citation-needed template is replaced with the spaces before it ("end. {{cn}}"), after the
    citations already there; one that holds the text it marks is kept (the reference follows it,
    after the marked text: the statement of ``{{要出典範囲|text}}`` is that text). Without one, the
    reference goes before the full stop where the article cites so."""
    statement = article.statements[index]
    marker = statement.marker
    if statement.in_marker:
        return statement.raw, None
    if marker is not None:
        lead = statement.raw + statement.before_marker
        if refs.marks_text(marker):
            return lead + marker, None
        anchor = lead.rstrip()
        return anchor, lead[len(anchor):] + marker
    if article.cites_before_stop and statement.raw.rstrip(refs.STOPS):
        return statement.raw.rstrip(refs.STOPS), None
    return statement.raw, None


def anchored_placement(wikitext: str, article: refs.ArticleReferences,
                       index: int) -> tuple[str, str | None] | None:
    """The statement's placement, if the gadget, which looks for the first copy of the anchor
    (followed by what it replaces), finds this statement and not an earlier copy (in an infobox,
    another list); None otherwise."""
    anchor, replace = placement(article, index)
    found = wikitext.find(anchor + (replace or "")) == article.statements[index].start
    return (anchor, replace) if found else None


class ReferencesTask:
    id = "references"
    definition = (
        "Proposes a source for a statement marked as needing one (or in an unsourced paragraph): a "
        "reference already in the article or one cited in an article it links to; it never edits: "
        "an editor checks the source and adds or rejects it."
    )
    reasons = (
        Reason("not_supporting", "Does not support the statement"),
        Reason("unreliable", "Unreliable source"),
        Reason("irrelevant", "Irrelevant"),
        Reason("already_cited", "Already cited"),
        Reason("other", "Other"),
    )

    def __init__(self, config: dict[str, Any] | None = None, ranker_dir: str | Path | None = None) -> None:
        self.config = config
        self.ranker_dir = Path(ranker_dir or DATA_DIR)
        # The version names the ranker files too, so retraining invalidates cached suggestions.
        self.version = f"2.4+{rankers_digest(self.ranker_dir, self.id)}"
        self.embeddings = EmbeddingCache()
        self._parsed: OrderedDict[str, refs.ArticleReferences] = OrderedDict()
        self._lock = threading.Lock()

    # -- the request ----------------------------------------------------------------------------
    def suggest(self, page: Page, source: PageSource, backend: Backend,
                settings: TaskSettings) -> list[Suggestion]:
        names = citation_needed_names(wiki_language(source), self.config)
        article = refs.parse_article(page.wikitext, names, source.namespace_prefixes(), with_links=False)
        targets = [(index, priority, place) for index, priority in self.targets(article)
                   if (place := anchored_placement(page.wikitext, article, index)) is not None]
        if not targets:
            return []
        linked = self.linked_references(source, page.links, names)
        suggestions: list[Suggestion] = []
        domains = listed_domains(settings.never_suggest)
        for index, priority, place in targets:
            candidates = [c for c in self.candidates(article, index, linked)
                          if not blocked(c.reference, settings.never_suggest, domains)]
            if not candidates:
                continue
            features = self.features(article, index, candidates, backend)
            scores, raw = self.scores(features, backend)
            scored = sorted(zip(scores, raw, candidates, features, strict=True),
                            key=lambda item: (-item[0], -item[1]))
            for score, _, candidate, feats in scored[:PER_STATEMENT]:
                score = round(score * (1.0 if priority == "citation_needed" else UNSOURCED_FACTOR), 4)
                if score >= settings.threshold:
                    suggestions.append(self.make(article, index, place, priority, candidate, score,
                                                 feats))
        suggestions.sort(key=lambda s: (s.insert["replace"] is None, -s.score, s.label))
        return suggestions[: settings.max_suggestions]

    def targets(self, article: refs.ArticleReferences) -> list[tuple[int, str]]:
        """(statement index, priority) of the statements that need a source, most urgent first."""
        marked = [(i, "citation_needed") for i, s in enumerate(article.statements) if s.marker]
        cited = article.cited_paragraphs()
        # Not the lead, nor the appendices (further reading, external links), nor a link's title,
        # nor table markup left unparsed.
        appendix = article.appendix if article.appendix is not None else math.inf
        unsourced = [(i, "unsourced_paragraph") for i, s in enumerate(article.statements)
                     if s.paragraph not in cited and not s.citations
                     and len(s.text) >= MIN_STATEMENT_CHARS and 0 < s.section < appendix
                     and not s.raw.startswith(NOT_PROSE) and refs.own_words(s.raw)]
        return marked[:MAX_CITATION_NEEDED] + unsourced[:MAX_UNSOURCED]

    def linked_references(self, source: PageSource, links: Sequence[str],
                          names: Sequence[str]) -> dict[str, refs.ArticleReferences]:
        texts = source.wikitext_of(list(links[:MAX_LINKED]))
        prefixes = source.namespace_prefixes()
        return {title: self.parsed(source.wiki_id, title, text, names, prefixes)
                for title, text in texts.items()}

    def parsed(self, wiki: str, title: str, text: str, names: Sequence[str],
               prefixes: Sequence[str] | None = None) -> refs.ArticleReferences:
        key = f"{wiki}|{title}|" + hashlib.sha1(text.encode()).hexdigest()
        with self._lock:
            if key in self._parsed:
                return self._parsed[key]
        article = refs.parse_article(text, names, prefixes, with_links=False)
        with self._lock:
            self._parsed[key] = article
            while len(self._parsed) > 2000:
                self._parsed.popitem(last=False)
        return article

    # -- candidates -----------------------------------------------------------------------------
    def candidates(self, article: refs.ArticleReferences, index: int,
                   linked: dict[str, refs.ArticleReferences]) -> list[Candidate]:
        """The article's own references (except those the statement already cites) and the
        references of linked articles, merged when they are the same source."""
        statement = article.statements[index]
        cited = {c.key for c in statement.citations}
        found: list[Candidate] = []
        by_id: dict[str, Candidate] = {}
        for key, reference in article.references.items():
            if key in cited or not (reference.body or reference.name):
                continue
            candidate = Candidate(reference, None)
            for use in reference.uses:
                cites = article.statements[use]
                candidate.positions.append((cites.paragraph, cites.section))
                candidate.statements.append(use)
                if use != index:
                    candidate.support.append((cites.text, None))
            found.append(candidate)
            for ident in candidate.ids():
                by_id.setdefault(ident, candidate)
        cited_ids = {i for k in cited if k in article.references for i in article.references[k].ids()}
        for title, other in linked.items():
            taken = 0
            for reference in other.references.values():
                if reference.kind != "ref" or not reference.body or not reference.uses:
                    continue
                ids = reference.ids()
                if ids & cited_ids:
                    continue
                sentences = [(other.statements[u].text, title) for u in reference.uses]
                same = next((by_id[i] for i in ids if i in by_id), None)
                if same is None:
                    if taken >= MAX_PER_LINKED or not portable(reference):
                        continue
                    taken += 1
                    same = Candidate(reference, title)
                    found.append(same)
                    for ident in ids:
                        by_id.setdefault(ident, same)
                if title not in same.linked:
                    same.linked.append(title)
                    same.support.extend(sentences)
        return found

    # -- scoring --------------------------------------------------------------------------------
    def features(self, article: refs.ArticleReferences, index: int, candidates: list[Candidate],
                 backend: Backend) -> list[dict[str, float]]:
        return feature_rows(article, index, candidates, backend, self.embeddings)

    def ranker(self, backend: Backend) -> Ranker | None:
        """The backend's own ranker, else the tfidf one; None only when neither file exists."""
        return (load_ranker(backend.info.id, self.ranker_dir, self.id)
                or load_ranker(FALLBACK_BACKEND, self.ranker_dir, self.id))

    def scores(self, features: list[dict[str, float]], backend: Backend) -> tuple[np.ndarray, np.ndarray]:
        """(score, tie-break) per candidate: the calibrated probability of the learned ranker for the
        article's own references, the hand score for linked articles' (see reference_features)."""
        x = np.array([[row.get(f, 0.0) for f in FEATURES] for row in features], dtype=np.float64)
        return reference_scores(x, self.ranker(backend))

    def pipeline(self) -> dict[str, Any]:
        """What the tool card shows about this task."""
        files = sorted(self.ranker_dir.glob("references-ranker-*.json"))
        return {
            "candidate_sources": "the article's own references (reused by name) and those cited in "
                                 f"the first {MAX_LINKED} linked articles, with the sentences they support",
            "features": list(FEATURES),
            "ranker": ("the article's own references: logistic regression on standardised features, "
                       "isotonic calibration (out-of-fold on the train split): "
                       + ", ".join(f"suggest/data/{p.name}" for p in files)
                       + "; linked articles' references: fixed weights " + json.dumps(HAND_WEIGHTS))
            if files else "logistic score with fixed weights " + json.dumps(HAND_WEIGHTS),
            "limits": {"max_linked": MAX_LINKED, "max_per_linked": MAX_PER_LINKED,
                       "max_support": MAX_SUPPORT, "per_statement": PER_STATEMENT,
                       "unsourced_factor": UNSOURCED_FACTOR},
        }

    # -- the suggestion -------------------------------------------------------------------------
    def make(self, article: refs.ArticleReferences, index: int, place: tuple[str, str | None],
             priority: str, candidate: Candidate, score: float,
             features: dict[str, float]) -> Suggestion:
        """The suggestion of ``candidate`` for statement ``index``, to go in at ``place`` (its
        anchor and what it replaces, from :func:`placement`)."""
        statement = article.statements[index]
        reference = candidate.reference
        anchor, replace = place
        insert: dict[str, Any] = {"kind": "reference", "anchor": anchor, "replace": replace,
                                  "statement": statement.text, "priority": priority}
        if candidate.origin is None and reference.name:
            wikitext = reference.reuse_tag()
        elif candidate.origin is None and reference.kind == "ref":
            # An unnamed reference used a second time gets a name; the gadget turns its first
            # use into the short reuse tag (it is told both forms), one footnote for both uses.
            name = "ws-" + hashlib.sha1(reference.body.encode()).hexdigest()[:8]
            named = refs.Reference(**{**reference.__dict__, "name": name})
            wikitext = named.tag()
            insert["names_reference"] = {"name": name, "original": reference.verbatim or reference.tag(),
                                         "reuse": named.reuse_tag()}
        else:
            wikitext = refs.Reference(**{**reference.__dict__, "name": None}).tag()
        where = [a for _, a in candidate.support if a]
        quoted = next((s for s, _ in candidate.support), "")
        short = quoted if len(quoted) <= 90 else quoted[:87].rstrip() + "…"
        if candidate.origin is None:
            explanation = (f"already cited in this article for '{short}'" if short
                           else "already in this article's references")
            if "names_reference" in insert:
                explanation += "; it has no name yet, so this copy names it"
        else:
            explanation = f"cited for '{short}' in [[{where[0] if where else candidate.origin}]]"
            if len(candidate.linked) > 1:
                explanation += f" (and in {len(candidate.linked) - 1} more linked articles)"
        return Suggestion(task=self.id, label=reference.label, wikitext=wikitext, score=score,
                          explanation=explanation, insert=insert, features=features)

