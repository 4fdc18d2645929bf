"""The vehicle's file (一车一档): one page with a car's whole history at the dealership."""
