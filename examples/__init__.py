"""Runnable httpkit examples; each one's module docstring says how to run it.

From a checkout, ``httpkit serve examples.atompub:app`` (and the others) works because the
current directory is importable.
"""
