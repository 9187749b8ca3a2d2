"""Helpers shared by the command extensions (not an extension itself)."""
