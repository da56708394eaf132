"""The version, in one place: pyproject.toml reads it, and so do `--version` and About."""
__version__ = "0.1.0"
