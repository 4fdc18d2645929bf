"""Follow-up calls (回访) after the car leaves: the queue, the call beside the record."""
