"""Complaints (投诉): received, listened to, established, decided within authority,
explained, acted on and followed up until the customer is satisfied (seed 001)."""

# ComplaintEvent.kind values, the history the monthly report counts by.
EVENT_KINDS = (
    "received", "step_done", "not_agreed", "sent_back", "paused", "resumed", "escalated",
    "manager_alerted", "acknowledged", "call_scheduled", "closed", "severity",
    "action_added", "action_done",
)  # fmt: skip
