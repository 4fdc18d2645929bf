"""The check-in (接车): its steps and autosaved fields, the walkaround record, the symptoms, the
changes the tablet queued offline, and what its screens show."""
