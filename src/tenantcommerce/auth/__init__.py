"""Identity and access: users, store membership and roles."""
