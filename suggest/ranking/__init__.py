"""The learned category ranker: a logistic regression over candidate features, calibrated on a dev
split, stored as plain JSON (coefficients and a calibration table; never pickle)."""

from suggest.ranking.model import Ranker, RankerError, load_ranker, ranker_path

__all__ = ["Ranker", "RankerError", "load_ranker", "ranker_path"]
