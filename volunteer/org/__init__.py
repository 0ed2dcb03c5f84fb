"""The four-level organisation, units and 双报到."""
