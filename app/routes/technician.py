from __future__ import annotations

from litestar import Controller


class TechnicianController(Controller):
    path = "/my-jobs"
