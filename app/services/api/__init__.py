"""The JSON API for the dealer management system: its clients and what it shows of work orders."""
