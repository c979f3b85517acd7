"""Hooks: the artifact store is the only code that touches where artifacts live."""
