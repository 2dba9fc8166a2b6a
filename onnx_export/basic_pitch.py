"""Ship basic-pitch's ONNX note-transcription model (Spotify, ICASSP 2022) as the "transcriber" model.

    .venv/bin/pip download --no-deps basic-pitch==0.4.0 -d /tmp/bp
    python -m onnx_export.basic_pitch /tmp/bp/basic_pitch-0.4.0-py2.py3-none-any.whl [--out-dir mtm_daw/weights]

Installing basic-pitch pulls TensorFlow, so the wheel is only opened as a zip: its bundled
`saved_models/icassp_2022/nmp.onnx` is copied unchanged, with its licence. Writes into out_dir:

    basic_pitch_nmp.onnx          the model, byte for byte as in the wheel
    basic_pitch_LICENSE.txt       where it comes from, the wheel's NOTICE and Apache-2.0 LICENSE
    manifest.json                 the "transcriber" entry (other entries are kept)

No torch or TensorFlow: numpy, onnxruntime and the standard library. The runtime is
mtm_daw/engine/transcriber.py.
"""
from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort

from onnx_export.manifest import sha256_file, update_manifest_entry

VERSION = "0.4.0"
MODEL_IN_WHEEL = "basic_pitch/saved_models/icassp_2022/nmp.onnx"
LICENCE_IN_WHEEL = f"basic_pitch-{VERSION}.dist-info/LICENSE"
NOTICE_IN_WHEEL = f"basic_pitch-{VERSION}.dist-info/NOTICE"
MODEL_FILE = "basic_pitch_nmp.onnx"
LICENCE_FILE = "basic_pitch_LICENSE.txt"
MANIFEST_KEY = "transcriber"
MANIFEST_VERSION = 1

CONFIG = {
    "sample_rate": 22050,         # Hz, mono
    "window_samples": 43844,      # one model call: 2 s less one hop
    "frame_hop_samples": 256,     # output frames at 22050 / 256 = 86.13 per second
    "frames_per_window": 172,
    "lowest_midi_pitch": 21,      # A0: note/onset column 0
    "pitches": 88,                # A0..C8
    "contour_bins_per_semitone": 3,
    "input": "serving_default_input_2:0",  # (batch, 43844, 1) float32
    "outputs": {"note": "StatefulPartitionedCall:1", "onset": "StatefulPartitionedCall:2",
                "contour": "StatefulPartitionedCall:0"},  # (batch, 172, 88 | 88 | 264)
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help=f"basic_pitch-{VERSION}-py2.py3-none-any.whl")
    parser.add_argument("--out-dir", type=Path, default=Path("mtm_daw/weights"))
    args = parser.parse_args(argv)

    # 1. copy the model and its licence out of the wheel
    with zipfile.ZipFile(args.wheel) as wheel:
        model = wheel.read(MODEL_IN_WHEEL)
        licence = wheel.read(LICENCE_IN_WHEEL).decode("utf-8")
        notice = wheel.read(NOTICE_IN_WHEEL).decode("utf-8")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    model_path = args.out_dir / MODEL_FILE
    model_path.write_bytes(model)
    header = (f"mtm_daw transcriber ({MODEL_FILE})\n\n"
              f"Source: {MODEL_IN_WHEEL} in the basic-pitch {VERSION} wheel from PyPI\n"
              f"(basic_pitch-{VERSION}-py2.py3-none-any.whl, https://github.com/spotify/basic-pitch),\n"
              "copied unchanged. Model: \"A Lightweight Instrument-Agnostic Model for Polyphonic Note\n"
              "Transcription and Multipitch Estimation\" (Bittner et al., ICASSP 2022), Spotify AB.\n"
              "Licence: Apache-2.0 (below, with the wheel's NOTICE). mtm_daw's own note extraction\n"
              "(mtm_daw/engine/transcriber.py) is not basic-pitch code.\n\n" + "-" * 78 + "\n")
    (args.out_dir / LICENCE_FILE).write_text(header + notice.rstrip() + "\n\n" + "-" * 78 + "\n\n" + licence,
                                             encoding="utf-8")

    # 2. check that it runs and has the inputs and outputs the runtime expects
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].name == CONFIG["input"], session.get_inputs()[0].name
    names = list(CONFIG["outputs"].values())
    silence = np.zeros((1, CONFIG["window_samples"], 1), dtype=np.float32)
    shapes = [o.shape for o in session.run(names, {CONFIG["input"]: silence})]
    assert shapes == [(1, 172, 88), (1, 172, 88), (1, 172, 264)], shapes

    # 3. the manifest entry (other models' entries are kept)
    entry = {
        "file": MODEL_FILE,
        "sha256": sha256_file(model_path),
        "bytes": model_path.stat().st_size,
        "source": f"{MODEL_IN_WHEEL} from the basic-pitch {VERSION} wheel (PyPI), Spotify AB",
        "license": "Apache-2.0",
        "license_file": LICENCE_FILE,
        "paper": "Bittner et al., A Lightweight Instrument-Agnostic Model for Polyphonic Note "
                 "Transcription and Multipitch Estimation, ICASSP 2022",
        "config": CONFIG,
        "version": MANIFEST_VERSION,
    }
    path = update_manifest_entry(args.out_dir, MANIFEST_KEY, entry)
    print(f"wrote {model_path} ({entry['bytes']} bytes, sha256 {entry['sha256'][:12]}...) and {path}")


if __name__ == "__main__":
    main()
