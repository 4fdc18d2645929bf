"""`python -m bench [photos|pdf|sse|load|year|year-bench] [options]`: one benchmark by name, or
all of them (except `load`, `year` and `year-bench`, which take minutes: only by name).

Unnamed, the options are the photo benchmark's (as before the PDF benchmark existed),
and the PDF and live-board (SSE) benchmarks follow with their defaults.
"""

from __future__ import annotations

import sys

from bench import load, pdf, photos, sse, year, year_bench

BENCHMARKS = {
    "photos": photos.main,
    "pdf": pdf.main,
    "sse": sse.main,
    "load": load.main,
    "year": year.main,
    "year-bench": year_bench.main,
}


def main(argv: list[str]) -> int:
    if argv and argv[0] in BENCHMARKS:
        return BENCHMARKS[argv[0]](argv[1:])
    status = photos.main(argv)
    print()
    status = status or pdf.main([])
    print()
    return status or sse.main([])


raise SystemExit(main(sys.argv[1:]))
