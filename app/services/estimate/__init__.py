"""The estimate (维修费用预估): jobs and lines at published prices, and what its screens show."""
