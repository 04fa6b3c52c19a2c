"""Target descriptions (TOML data files) and their schema-validating loader."""

from snnc.targets.loader import Target, available_targets, load_target, parse_target

__all__ = ["Target", "available_targets", "load_target", "parse_target"]
