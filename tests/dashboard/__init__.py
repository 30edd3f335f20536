"""Tests for issue 17 (the manager dashboard)."""
