"""mtm_daw: offline multimodal music generation for DAW users."""
__version__ = "0.1.0"
