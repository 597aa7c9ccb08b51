"""Reading and writing assessment data, criteria files and reports."""
