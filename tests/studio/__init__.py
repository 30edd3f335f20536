"""Tests for issue 16 (the admin studio)."""
