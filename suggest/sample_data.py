"""Extract the 2016 English dump sample from the gensim wheel that pip downloaded.

The file is real Wikipedia content (CC BY-SA 3.0, GFDL), shipped as test data by gensim 4.4.0
(LGPL). ``python -m suggest.sample_data WHEEL_DIR OUT``.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

MEMBER = "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def extract(wheel_dir: Path, out: Path) -> None:
    wheels = sorted(wheel_dir.glob("gensim-4.4.0-*.whl"))
    if not wheels:
        raise SystemExit(f"no gensim 4.4.0 wheel in {wheel_dir}")
    with zipfile.ZipFile(wheels[0]) as wheel:
        out.write_bytes(wheel.read(MEMBER))


if __name__ == "__main__":
    extract(Path(sys.argv[1]), Path(sys.argv[2]))
