"""What connects the features at start-up, in one place: the ORM session hooks,
the listeners of domain events and the kinds of signed record.

Called by the app factory (`create_app`), the CLI and the test fixtures; never
run by importing a module, so importing a service has no side effects. Safe to
call more than once.
"""

from __future__ import annotations

from app.models import SignatureKind
from app.services import board_events, events
from app.services.delivery import acceptance as delivery_signing
from app.services.delivery import follow_up
from app.services.outbound import webhooks
from app.services.signing import guard, signatures
from app.services.supplements import signed as supplement_signing
from app.services.workshop import tasks as job_tasks


def install() -> None:
    # Announce committed workshop changes; keep signed records from changing.
    board_events.install()
    guard.install()

    # How each kind of signed record is rebuilt from the database for its check.
    signatures.register_kind(SignatureKind.WORK_ORDER, signatures.rebuild_work_order)
    signatures.register_kind(SignatureKind.SUPPLEMENT, supplement_signing.current)
    signatures.register_kind(SignatureKind.DELIVERY, delivery_signing.current)

    # The after-effects of signing, answering added work and delivering, in the
    # order they run inside the publisher's transaction.
    events.listen(events.WorkOrderSigned, job_tasks.on_work_order_signed)
    events.listen(events.SupplementDecided, job_tasks.on_supplement_decided)
    events.listen(events.SupplementDecided, webhooks.on_supplement_decided)
    events.listen(events.CarDelivered, follow_up.on_car_delivered)
    events.listen(events.CarDelivered, board_events.on_change)
    events.mark_wired()
