"""Appointments (预约): booking, moving and cancelling, the calendar, the day before."""
