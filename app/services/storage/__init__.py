"""Where customers' stored files live: the local photo folder or an S3-compatible bucket."""
