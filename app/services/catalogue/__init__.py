"""The catalogue of labour operations, parts and menu packages: editing, CSV import and search."""
