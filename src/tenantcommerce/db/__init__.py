"""Database layer: URLs, engines and sessions, roles, base classes, migrations, isolation checks, embedded server."""
