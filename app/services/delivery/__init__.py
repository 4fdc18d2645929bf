"""Delivery (交车): the handover against the check-in record, the bill, the acceptance the
customer signs and the follow-up call it schedules."""
