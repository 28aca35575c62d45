"""The data package: reading, checking and writing the files a policy scores (and sample data)."""
