"""Check-in photos: received once, processed to upright JPEGs, stored by content."""
