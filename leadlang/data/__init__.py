"""The `--data` files: column specs (`specs`), checking and staging in DuckDB (`staging`), rows for the
Python engine (`stream`) and the result writers (`writers`)."""
