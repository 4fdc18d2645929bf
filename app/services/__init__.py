"""Domain logic as plain async functions over an AsyncSession; no HTTP here."""
