"""Running an installation: backing it up and restoring it."""
