"""``python -m issuer``: the same ``certvc`` command line (:mod:`issuer.cli`), for when the
``certvc`` script is not on the PATH."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    main(prog_name="certvc")
