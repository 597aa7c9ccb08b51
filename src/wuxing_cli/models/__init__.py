"""Pydantic models: criteria files and results."""
