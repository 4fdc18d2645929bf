"""Checking a signed record: the customer's own link and QR code, and what changed said in their
words."""
