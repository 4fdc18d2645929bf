"""HTTP glue shared by the routes: auth, rendering, error pages."""
