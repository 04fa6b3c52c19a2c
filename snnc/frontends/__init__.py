"""Frontends: bring models from other tools into snnc's IR (and back, where a format allows)."""
