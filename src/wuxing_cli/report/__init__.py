"""Renderers: results in, strings (or rich renderables) out; they never print or open files."""
