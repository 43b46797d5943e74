"""A migration-only app whose governed table uses `timestamp` (a warning) (test_migrate.py)."""
