"""One Controller per feature; handlers translate HTTP and call services."""
