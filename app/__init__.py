"""Walkaround: the service-lane check-in for car dealerships."""

__version__ = "0.1.0"
