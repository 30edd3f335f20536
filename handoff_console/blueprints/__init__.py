"""One blueprint per console feature."""
