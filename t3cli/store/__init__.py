"""The SQLite store: connection and migrations, the event log, projectors, catch-up, queries."""
