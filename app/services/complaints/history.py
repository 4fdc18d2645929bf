"""The kinds of entry in a complaint's history (ComplaintEvent.kind): the monthly report
counts by them, the record names them."""

from __future__ import annotations

# ComplaintEvent.kind values, the history the monthly report counts by.
EVENT_KINDS = (
    "received", "step_done", "not_agreed", "sent_back", "paused", "resumed", "escalated",
    "manager_alerted", "acknowledged", "call_scheduled", "closed", "severity",
    "action_added", "action_done",
)  # fmt: skip
