"""Test tools shared by tests and bench scripts (never imported by production packages)."""
