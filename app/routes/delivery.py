from __future__ import annotations

from litestar import Controller


class DeliveryController(Controller):
    path = "/delivery"
