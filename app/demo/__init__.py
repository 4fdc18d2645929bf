"""Demo data for a first look and for the e2e tests, seeded through the real flow."""
