"""The panel's widgets, one small module each."""
