"""Migrations Django can only render against the database they expect (test_migrate.py)."""
