"""Tests for issue 18 (trust)."""
