"""End-to-end tests: a real Chromium against a live Walkaround server."""
