"""The evening summary (当日总结): the day's figures against the month's targets, what was
missed and why, tomorrow's appointments and the parts to reserve, on screen and by e-mail."""
