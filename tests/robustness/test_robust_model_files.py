"""Model files and their manifest: missing, truncated, wrong checksum, wrong version, garbage JSON.

Each gives an MtmError naming the file and how to restore it ("reinstall mtm_daw" or the export
command); the shipped files are never touched (every test works on a copy in a temporary folder).
"""
from __future__ import annotations

import functools
import json
import shutil

import pytest

from mtm_daw.engine import sessions, text_encoder, transcriber
from mtm_daw.engine.sessions import (WEIGHTS_DIR, PerThreadCount, create_session, load_manifest, model_entry,
                                     sha256_file, verify_file)
from mtm_daw.errors import MtmError
from tests.robustness.corrupt import damage_of, damaged, expect_only_mtm_error, fuzz, noise

RESTORE = ("reinstall mtm_daw", "onnx_export")  # every message says one of these


@pytest.fixture(autouse=True)
def fresh_caches():
    sessions.clear_cache()
    yield
    sessions.clear_cache()


@pytest.fixture
def weights(tmp_path):
    """A copy of the manifest and the smallest shipped models (transcriber, text encoder + tokenizer)."""
    folder = tmp_path / "weights"
    folder.mkdir()
    shutil.copy(WEIGHTS_DIR / "manifest.json", folder)
    manifest = load_manifest(folder)
    for name in ("transcriber", "text_encoder"):
        entry = manifest["models"][name]
        shutil.copy(WEIGHTS_DIR / entry["file"], folder)
        if "tokenizer" in entry:
            shutil.copy(WEIGHTS_DIR / entry["tokenizer"]["file"], folder)
    return folder


def clear_error(call, named: str) -> str:
    """The call must raise MtmError naming `named` and saying how to restore it."""
    with pytest.raises(MtmError) as error:
        call()
    message = str(error.value)
    assert named in message, f"the error does not name {named}: {message}"
    assert any(hint in message for hint in RESTORE), f"the error does not say how to restore it: {message}"
    return message


def edit_manifest(folder, change) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def default_transcriber(monkeypatch, folder):
    """Transcriber.default() reading `folder` instead of the shipped weights."""
    monkeypatch.setattr(transcriber, "WEIGHTS_DIR", folder)
    monkeypatch.setattr(transcriber, "model_entry", functools.partial(model_entry, weights_dir=folder))
    monkeypatch.setattr(transcriber, "_defaults", PerThreadCount())
    return transcriber.Transcriber.default()


def default_text_encoder(monkeypatch, folder):
    monkeypatch.setattr(text_encoder, "WEIGHTS_DIR", folder)
    monkeypatch.setattr(text_encoder, "model_entry", functools.partial(model_entry, weights_dir=folder))
    monkeypatch.setattr(text_encoder, "_default", None)
    return text_encoder.TextEncoder.default()


# --- the manifest -------------------------------------------------------------------------------
def test_a_missing_manifest(weights):
    (weights / "manifest.json").unlink()
    clear_error(lambda: model_entry("transcriber", weights), "manifest.json")


@pytest.mark.parametrize("text", ["", "{", "[" * 100_000, '{"models": 7}', "[]", '{"models": {"transcriber": 3}}',
                                  '{"tempo": ' + "1" * 5000 + "}", "\udcff"])
def test_a_garbage_manifest(weights, text):
    (weights / "manifest.json").write_bytes(text.encode("utf-8", errors="surrogateescape"))
    clear_error(lambda: model_entry("transcriber", weights), "manifest.json")


def test_a_damaged_manifest_fuzzed(weights, monkeypatch):
    original = (weights / "manifest.json").read_bytes()

    def check(case):
        (weights / "manifest.json").write_bytes(case.data)
        for name in ("transcriber", "text_encoder", "ecmg"):
            expect_only_mtm_error(lambda: model_entry(name, weights), named="manifest.json", what="model_entry")
        expect_only_mtm_error(lambda: default_transcriber(monkeypatch, weights), what="Transcriber.default")

    fuzz(damaged(original, (b'{"models": {}}', b"\x00" * 40), b"{"), check, examples=30)


@pytest.mark.parametrize("change, named", [
    (lambda m: m["models"]["transcriber"].pop("sha256"), "manifest.json"),  # loaded unchecked before
    (lambda m: m["models"]["transcriber"].update(sha256="abc"), "manifest.json"),
    (lambda m: m["models"]["transcriber"].update(sha256=12), "manifest.json"),  # AttributeError before
    (lambda m: m["models"]["transcriber"].update(file=None), "manifest.json"),  # TypeError before
    (lambda m: m["models"]["transcriber"].update(file="../../elsewhere.onnx"), "manifest.json"),
    (lambda m: m["models"]["transcriber"].update(version=2), "newer mtm_daw"),  # loaded before
    (lambda m: m["models"]["transcriber"].update(version="one"), "manifest.json"),
    (lambda m: m["models"].pop("transcriber"), "manifest.json"),
])
def test_a_manifest_entry_that_cannot_be_trusted(weights, monkeypatch, change, named):
    edit_manifest(weights, change)
    clear_error(lambda: default_transcriber(monkeypatch, weights), named)


@pytest.mark.parametrize("change", [
    lambda m: m["models"]["text_encoder"].update(tokenizer="tokenizer.json"),  # AttributeError before
    lambda m: m["models"]["text_encoder"]["tokenizer"].pop("sha256"),
    lambda m: m["models"]["ecmg"].update(int8={"file": "ecmg_int8.onnx"}),  # KeyError before
])
def test_a_manifest_part_that_cannot_be_trusted(weights, monkeypatch, change):
    edit_manifest(weights, change)
    clear_error(lambda: [model_entry(name, weights) for name in ("text_encoder", "ecmg")], "manifest.json")


# --- the model files ----------------------------------------------------------------------------
def test_a_missing_model_file(weights, monkeypatch):
    (weights / model_entry("transcriber", weights)["file"]).unlink()
    clear_error(lambda: default_transcriber(monkeypatch, weights), "basic_pitch_nmp.onnx")


@pytest.mark.parametrize("damage", ["truncated", "flipped", "random", "empty"])
def test_a_damaged_model_file_fails_its_checksum(weights, monkeypatch, damage):
    path = weights / model_entry("transcriber", weights)["file"]
    path.write_bytes(damage_of(path.read_bytes(), damage, seed=5).data)
    message = clear_error(lambda: default_transcriber(monkeypatch, weights), path.name)
    assert "checksum" in message or "empty" in message or "not found" in message


def test_a_damaged_tokenizer(weights, monkeypatch):
    entry = model_entry("text_encoder", weights)
    path = weights / entry["tokenizer"]["file"]
    path.write_bytes(path.read_bytes()[:1000])
    clear_error(lambda: default_text_encoder(monkeypatch, weights), path.name)


def test_a_model_replaced_after_it_was_checked(weights):
    """The checksum cache is keyed by size and modification time: a replaced file is checked again."""
    entry = model_entry("transcriber", weights)
    path = weights / entry["file"]
    verify_file(path, entry["sha256"])
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    clear_error(lambda: verify_file(path, entry["sha256"]), path.name)


@pytest.mark.parametrize("damage", ["truncated", "random", "empty"])
def test_onnxruntime_on_garbage_without_a_checksum(weights, damage):
    """create_session without a checksum (a user's own model path) still gives a clear error."""
    path = weights / "user_model.onnx"
    data = (weights / model_entry("transcriber", weights)["file"]).read_bytes()
    path.write_bytes(damage_of(data, damage, seed=9).data if damage != "random" else noise(5000, 3))
    clear_error(lambda: create_session(path), path.name)


def test_a_model_path_that_is_a_folder(weights):
    clear_error(lambda: create_session(weights, sha256_file(weights / "manifest.json")), str(weights))
