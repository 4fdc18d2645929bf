"""The 看板 is live for the lane too: opening a check-in (an arrival, its greeting)
announces a change once committed, and a refused step announces nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.demo import data as demo_data
from app.errors import InvalidInput
from app.models import Appointment, Step
from app.services.board_events import broker
from app.services.check_in import steps as check_ins
from tests.checkin_helpers import fresh
from tests.estimate_helpers import advisor

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def test_opening_a_check_in_announces_the_arrival(db, settings, users) -> None:
    await demo_data.load(db, settings.tz, on_site=False)
    await db.commit()
    appointment_id = await db.scalar(select(Appointment.id).order_by(Appointment.id).limit(1))
    assert appointment_id is not None
    before = broker.sequence
    check_in = await check_ins.start_from_appointment(db, appointment_id, advisor(users))
    assert broker.sequence == before  # not before the commit
    await db.commit()
    assert broker.sequence == before + 1

    check_in = await fresh(db, check_in.id)
    with pytest.raises(InvalidInput):  # the symptoms are not confirmed: not complete
        await check_ins.finish_step(db, check_in, Step.SYMPTOMS, check_in.version, advisor(users))
    await db.rollback()
    assert broker.sequence == before + 1
