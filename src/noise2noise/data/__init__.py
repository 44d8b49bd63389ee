"""Data: image folders (``folders``), training sets (``training``) and evaluation sets (``evalsets``)."""
