"""The evaluation harness: the service's own task code run on a dump, leave-one-out, per language.

``python -m suggest.evaluate --task categories --dump FILE [--dump FILE ...] [--backend NAME ...]
--out results.json`` (see :mod:`suggest.evaluate.__main__`).
"""
