"""`python -m bench [photos|pdf] [options]`: one benchmark by name, or all of them.

Unnamed, the options are the photo benchmark's (as before the PDF benchmark existed),
and the PDF benchmark follows with its defaults.
"""

from __future__ import annotations

import sys

from bench import pdf, photos

BENCHMARKS = {"photos": photos.main, "pdf": pdf.main}


def main(argv: list[str]) -> int:
    if argv and argv[0] in BENCHMARKS:
        return BENCHMARKS[argv[0]](argv[1:])
    status = photos.main(argv)
    print()
    return status or pdf.main([])


raise SystemExit(main(sys.argv[1:]))
