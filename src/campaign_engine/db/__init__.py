"""PostgreSQL: schema, migrations, the embedded server and the repository (I/O lives here)."""
