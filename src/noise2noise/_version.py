"""The package version, in a module of its own so that any layer can read it without importing the
public API (``noise2noise/__init__.py`` imports nearly everything)."""

__version__ = "0.1.0"
