"""``make bench``: side-by-side performance ratios of wiki-suggest (see bench/README.md)."""
