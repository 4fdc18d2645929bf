"""Customer signatures: the ink, the signed work order, the signature that seals a record and
its check, and the guard that keeps it from changing."""
