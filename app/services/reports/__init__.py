"""Reports: the period asked for, figures counted from the records, charts and exports."""
