"""Delivery (交车): the handover against the check-in record and the acceptance the
customer signs."""
