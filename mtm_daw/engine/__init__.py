"""Running the shipped ONNX models with onnxruntime (never torch): sessions, checksums, the text encoder."""
from mtm_daw.engine.sessions import WEIGHTS_DIR, create_session, load_manifest, model_entry, verify_file
from mtm_daw.engine.text_encoder import TextEncoder

__all__ = ["WEIGHTS_DIR", "create_session", "load_manifest", "model_entry", "verify_file", "TextEncoder"]
