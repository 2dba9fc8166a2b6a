"""The shared sentence encoder: the shipped ONNX model through the runtime, damaged files, and the export script."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mtm_daw.engine.sessions import WEIGHTS_DIR, create_session, model_entry
from mtm_daw.engine.text_encoder import TextEncoder
from mtm_daw.errors import MtmError
from tests.robustness.corrupt import copy_with_middle_flipped

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder.default()


def test_shape_normalisation_and_determinism(encoder):
    texts = ["a sad slow piano ballad", "", "Bb major, 96 BPM, calm", "upbeat pop song with claps"]
    first = encoder.encode(texts)
    assert encoder.dim == 384
    assert first.shape == (4, 384) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(encoder.encode(texts), first)
    assert encoder.encode("jazz").shape == (1, 384)
    assert encoder.encode([]).shape == (0, 384)


def test_batch_and_single_agree(encoder):
    texts = ["jazz", "a lonely cello over a drone in D minor", "",
             "music for a drone shot over snowy mountains at sunrise, wide strings and a soft piano motif " * 3]
    batched = encoder.encode(texts, batch_size=3)
    for text, row in zip(texts, batched):
        assert float(encoder.encode(text)[0] @ row) > 0.999


def test_long_text_is_truncated_at_256_tokens(encoder):
    long = "slow ambient pads " * 200  # far more than 256 word pieces
    np.testing.assert_allclose(encoder.encode(long), encoder.encode(long + "heavy metal drums"), atol=1e-6)


def test_similar_moods_are_closer(encoder):
    ballad, gentle, metal = encoder.encode(["a sad slow piano ballad", "melancholic gentle piano",
                                            "aggressive fast heavy metal drums"])
    assert ballad @ gentle > ballad @ metal + 0.1


@pytest.mark.parametrize("genre, description", [
    ("jazz", "a walking upright bass under a trumpet solo and swinging ride cymbal"),
    ("rock", "a guitar band playing loud riffs in a garage"),
    ("orchestral", "a full symphony with soaring strings, horns and timpani"),
    ("electronic", "pulsing synthesizers and a four-on-the-floor kick at a rave"),
    ("ambient", "quiet atmospheric textures for meditation"),
])
def test_zero_shot_genre(encoder, genre, description):
    genres = ["jazz", "rock", "orchestral", "electronic", "ambient"]
    prompts = encoder.encode([f"{g} music" for g in genres])  # (5, 384)
    scores = encoder.encode(description)[0] @ prompts.T
    assert genres[int(np.argmax(scores))] == genre


def test_bad_input_is_an_mtm_error(encoder):
    with pytest.raises(MtmError, match="string"):
        encoder.encode(42)
    with pytest.raises(MtmError, match="#2"):
        encoder.encode(["fine", None])
    with pytest.raises(MtmError, match="batch_size"):
        encoder.encode("x", batch_size=0)


def test_runtime_never_imports_torch():
    code = ("import sys; from mtm_daw.engine.text_encoder import TextEncoder; TextEncoder.default().encode(['x']); "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'torch imported'")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_damaged_model_file(tmp_path):
    entry = model_entry("text_encoder")
    damaged = copy_with_middle_flipped(WEIGHTS_DIR / entry["file"], tmp_path, count=16)
    with pytest.raises(MtmError, match=r"text_encoder_int8\.onnx: checksum mismatch"):
        TextEncoder(damaged, WEIGHTS_DIR / entry["tokenizer"]["file"], sha256=entry["sha256"])


def test_unusable_or_missing_model_file(tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00\x01 this is not an ONNX model \xff" * 64)
    with pytest.raises(MtmError, match="garbage.onnx"):
        create_session(garbage)
    import hashlib
    with pytest.raises(MtmError, match="garbage.onnx: not a usable ONNX model"):
        create_session(garbage, hashlib.sha256(garbage.read_bytes()).hexdigest())
    with pytest.raises(MtmError, match="nowhere.onnx: model file not found"):
        create_session(tmp_path / "nowhere.onnx", "0" * 64)


# --- the export script, on a tiny random BERT made here ---------------------------------------------------

def make_tiny_bert(folder: Path) -> None:
    transformers = pytest.importorskip("transformers")
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    words = "a the slow fast sad happy piano drums guitar strings jazz rock music with and soft loud ##s ##ing".split()
    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words)}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tokenizer.save(str(folder / "tokenizer.json"))
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    transformers.BertModel(config).save_pretrained(folder)


def test_export_script_on_a_tiny_bert(tmp_path):
    pytest.importorskip("torch")
    from onnx_export.manifest import read_manifest, sha256_file, write_manifest
    from onnx_export.text_encoder import export_text_encoder

    model_dir, out_dir = tmp_path / "tiny", tmp_path / "weights"
    model_dir.mkdir()
    make_tiny_bert(model_dir)
    write_manifest(out_dir, {"models": {"other_model": {"file": "other.onnx", "sha256": "abc"}}})
    sentences = ["a sad slow piano", "fast loud drums and guitars with strings", "", "jazz", "soft " * 80]
    entry = export_text_encoder(model_dir, out_dir, quantize=True, check_sentences=sentences)

    assert entry["parity"]["max_abs_error_fp32"] < 1e-4
    assert entry["config"]["dim"] == 32 and entry["config"]["normalized"] is True
    shipped = out_dir / entry["file"]
    assert entry["sha256"] == sha256_file(shipped) and entry["bytes"] == shipped.stat().st_size
    assert entry["tokenizer"]["sha256"] == sha256_file(out_dir / entry["tokenizer"]["file"])
    manifest = read_manifest(out_dir)
    assert manifest["models"]["text_encoder"] == json.loads(json.dumps(entry))
    assert manifest["models"]["other_model"] == {"file": "other.onnx", "sha256": "abc"}  # kept

    # the runtime reads what the script wrote and agrees with torch (padding, truncation, pooling)
    assert entry["config"]["max_tokens"] == 64  # the tiny model's max_position_embeddings
    encoder = TextEncoder(shipped, out_dir / entry["tokenizer"]["file"], sha256=entry["sha256"], max_tokens=64)
    vectors = encoder.encode(sentences, batch_size=2)
    assert vectors.shape == (5, 32) and encoder.dim == 32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    from transformers import BertModel
    from onnx_export.text_encoder import SentenceEncoder, load_tokenizer, run_torch
    torch_model = SentenceEncoder(BertModel.from_pretrained(model_dir, add_pooling_layer=False)).eval()
    reference = run_torch(torch_model, load_tokenizer(model_dir / "tokenizer.json", 64), sentences)
    assert np.min(np.sum(vectors * reference, axis=1)) > 0.99
