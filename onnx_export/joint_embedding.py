"""Export the joint text–audio space (audio tower + text head) to ONNX, check parity, update the manifest.

    .venv/bin/python -m onnx_export.joint_embedding --checkpoint build/joint --out-dir mtm_daw/weights

Writes joint_audio.onnx (log-mel windows, dynamic batch and length) and joint_text_head.onnx
(MiniLM sentence embeddings -> joint space, dynamic batch), both fp32, and records in the manifest:
config, SHA-256, training metrics and parity against torch eager. Then joint_prompts.npz: the prompts
`describe.listening.hear` asks about, embedded by the exported head (so hearing a file loads no text
model); `--prompts-only` rewrites just that table for the towers already there (needs no torch).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from onnx_export.manifest import read_manifest, sha256_file, update_manifest_entry

OPSET = 17


def _run(path: Path, name: str, array: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {name: array})[0]


def export_joint(checkpoint: Path, out_dir: Path) -> dict:
    import torch

    from mtm_daw.engine.joint_embedding import N_MELS, WINDOW_FRAMES
    from training.train_joint import load_towers

    tower, head, config = load_towers(checkpoint)
    info = json.loads((checkpoint / "config.json").read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    audio_file, text_file = out_dir / "joint_audio.onnx", out_dir / "joint_text_head.onnx"
    generator = torch.Generator().manual_seed(0)
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch:  # same filesystem: os.replace stays atomic
        staged_audio, staged_text = Path(scratch) / audio_file.name, Path(scratch) / text_file.name
        with torch.no_grad():
            torch.onnx.export(tower, (torch.randn(2, 1, N_MELS, WINDOW_FRAMES, generator=generator),),
                              str(staged_audio), input_names=["mel"], output_names=["embedding"],
                              opset_version=OPSET, dynamo=False,
                              dynamic_axes={"mel": {0: "batch", 3: "frames"}, "embedding": {0: "batch"}})
            torch.onnx.export(head, (torch.randn(2, config.sentence_dim, generator=generator),), str(staged_text),
                              input_names=["sentence"], output_names=["embedding"], opset_version=OPSET,
                              dynamo=False, dynamic_axes={"sentence": {0: "batch"}, "embedding": {0: "batch"}})
            mel = torch.randn(3, 1, N_MELS, WINDOW_FRAMES, generator=generator)
            sentence = torch.randn(5, config.sentence_dim, generator=generator)
            parity_audio = float(np.abs(_run(staged_audio, "mel", mel.numpy()) - tower(mel).numpy()).max())
            parity_text = float(np.abs(_run(staged_text, "sentence", sentence.numpy()) - head(sentence).numpy()).max())
        if max(parity_audio, parity_text) > 1e-4:
            raise SystemExit(f"export differs from torch (audio {parity_audio:.2e}, text {parity_text:.2e})")
        os.replace(staged_audio, audio_file)
        os.replace(staged_text, text_file)
    entry = {
        "file": audio_file.name, "sha256": sha256_file(audio_file), "bytes": audio_file.stat().st_size,
        "text_head": {"file": text_file.name, "sha256": sha256_file(text_file), "bytes": text_file.stat().st_size},
        "config": info["config"],
        "genres": info.get("genres", ["pop", "rock", "electronic", "ambient", "cinematic", "jazz", "orchestral"]),
        "training": {"settings": info["settings"], "train_pairs": info["train_pairs"],
                     "final_loss": info["final_loss"], "heldout_metrics": info["metrics"]},
        "parity": {"max_abs_error_audio": parity_audio, "max_abs_error_text": parity_text},
        "exported_with": {"torch": torch.__version__, "opset": OPSET},
        "version": 1,
    }
    update_manifest_entry(out_dir, "joint_embedding", entry)
    return write_prompt_table(out_dir)


PROMPTS_FILE = "joint_prompts.npz"


def write_prompt_table(out_dir: Path) -> dict:
    """Embed the prompts `hear` uses with the towers in `out_dir`, write them beside the towers and record
    the file in their manifest entry; the entry, returned."""
    from mtm_daw.describe.listening import zero_shot_prompts
    from mtm_daw.engine.joint_embedding import JointEmbedder
    from mtm_daw.engine.text_encoder import TextEncoder

    entry = read_manifest(out_dir)["models"]["joint_embedding"]
    head = entry["text_head"]
    embedder = JointEmbedder(out_dir / entry["file"], out_dir / head["file"], TextEncoder.default(),
                             genres=tuple(entry["genres"]))
    prompts = zero_shot_prompts(embedder)
    vectors = embedder.embed_text(prompts).astype(np.float32)
    target = out_dir / PROMPTS_FILE
    with tempfile.NamedTemporaryFile(dir=out_dir, suffix=".npz", delete=False) as staged:
        np.savez(staged, texts=np.array(prompts), vectors=vectors)
    os.chmod(staged.name, 0o644)
    os.replace(staged.name, target)
    entry = {**entry, "prompts": {"file": target.name, "sha256": sha256_file(target), "bytes": target.stat().st_size,
                                  "count": len(prompts)}}
    update_manifest_entry(out_dir, "joint_embedding", entry)
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=Path("build/joint"))
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent.parent / "mtm_daw" / "weights")
    parser.add_argument("--prompts-only", action="store_true",
                        help="only re-embed the prompt table for the towers already in --out-dir")
    args = parser.parse_args()
    if args.prompts_only:
        entry = write_prompt_table(args.out_dir)
        print(json.dumps(entry["prompts"], indent=2))
        return
    entry = export_joint(args.checkpoint, args.out_dir)
    print(json.dumps({k: entry[k] for k in ("file", "bytes", "parity")}, indent=2))


if __name__ == "__main__":
    main()
