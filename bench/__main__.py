"""`python -m bench`: the photo pipeline against a bare Pillow decode and encode."""

from __future__ import annotations

from bench.photos import main

raise SystemExit(main())
