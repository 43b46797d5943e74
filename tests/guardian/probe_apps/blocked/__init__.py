"""A migration-only app whose migration forgets tenant_id (tests/guardian/test_migrate.py)."""
