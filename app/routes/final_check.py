from __future__ import annotations

from litestar import Controller


class FinalCheckController(Controller):
    path = "/final-check"
