"""Check-in photos: received once, processed to upright JPEGs, stored on disk by content."""
