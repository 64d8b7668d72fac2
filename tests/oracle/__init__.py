"""Independent reference computations of the reports, for tests."""
