"""The service manager's board (看板): the day's figures counted from the records, their
targets per month, and the vehicles behind each figure."""
