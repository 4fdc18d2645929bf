from __future__ import annotations

from litestar import Controller


class WorkshopController(Controller):
    path = "/workshop"
