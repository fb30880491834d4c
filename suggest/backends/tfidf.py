"""Character n-gram vectors (hashed, TF weighted): no neural model, works in every script."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from suggest.backends import register
from suggest.backends.base import BackendInfo, Matrix


class CharNgramBackend:
    def __init__(self, ngram_range: tuple[int, int] = (2, 4), n_features: int = 2**20) -> None:
        # Hashing keeps vectors comparable across calls without a fitted vocabulary.
        self._vectorizer = HashingVectorizer(
            analyzer="char_wb", ngram_range=ngram_range, n_features=n_features,
            alternate_sign=False, norm=None, lowercase=True,
        )
        params = f"char_wb{ngram_range}:{n_features}:sublinear"
        self.info = BackendInfo(
            id="tfidf",
            model="character n-gram vectors (scikit-learn HashingVectorizer)",
            version="1",
            checksum="sha256:" + hashlib.sha256(params.encode()).hexdigest()[:16],
            licence="BSD-3-Clause (scikit-learn)",
            model_card="https://scikit-learn.org/stable/modules/feature_extraction.html",
            hosting_tier="local",
            data_flow="Texts stay in the tool's own process; nothing is sent anywhere.",
            languages="any (character based)",
            limitations=["Matches spelling, not meaning: synonyms and translations score zero."],
        )

    def embed(self, texts: Sequence[str], kind: Literal["query", "passage"] = "passage") -> Matrix:
        counts = self._vectorizer.transform(list(texts))
        counts.data = 1.0 + np.log(counts.data)  # sublinear term frequency
        return normalize(counts)


@register("tfidf")
def create(options: dict[str, Any]) -> CharNgramBackend:
    return CharNgramBackend()
