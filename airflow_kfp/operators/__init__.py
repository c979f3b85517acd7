"""Component operators: one shared behaviour, one family per runner."""
