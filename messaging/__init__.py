"""Talking to readers through Rasa: the Rasa HTTP client, the librarian relay and the
shared outbox state machine used by every job that sends a message."""
