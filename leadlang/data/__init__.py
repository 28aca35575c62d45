"""The data package: the files a policy scores — column specs (`specs`), checking and staging in DuckDB
(`staging`, `parquet`, `errors`), rows for the Python engine (`stream`), the result writers (`writers`,
`lines`) — and sample data (`sample`)."""
