"""Customer signatures: the signed content, the signature that seals it, and the guard that keeps it
from changing."""
