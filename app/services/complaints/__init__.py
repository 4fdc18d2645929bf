"""Complaints (投诉): received, listened to, established, decided within authority,
explained, acted on and followed up until the customer is satisfied (seed 001)."""
