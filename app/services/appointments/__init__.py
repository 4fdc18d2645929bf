"""Appointments (预约): the dealership's slots and calendar, booking, moving and cancelling a
visit with its history, the rough estimate, and the messages to the customer (confirmation,
the day-before reminder)."""
