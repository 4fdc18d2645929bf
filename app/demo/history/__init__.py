"""History for the demo and the benchmarks: past visits written as rows through the models
(ORM bulk inserts), with the signed records the app would have made."""
