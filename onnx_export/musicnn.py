"""Export musicnn's pre-trained taggers (MTT_musicnn, MSD_musicnn) to ONNX, check parity, update the manifest.

Needs TensorFlow, so it runs in a throwaway virtualenv, never in mtm_daw's own:

    python3 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install --no-deps musicnn==0.1.0
    /tmp/tfenv/bin/pip install tensorflow-cpu==2.15.1 tf2onnx==1.16.1 onnx==1.16.2 onnxruntime==1.18.1 \
        librosa "numpy<2" tokenizers
    /tmp/tfenv/bin/python onnx_export/musicnn.py [--out-dir mtm_daw/weights]   # or: -m onnx_export.musicnn

For each tagger the graph is rebuilt from the wheel's own model code (musicnn.models.define_model, through
tf.compat.v1), the wheel's checkpoint is restored, and the graph from the log-mel patches (batch, 187, 96) to
the sigmoid tag probabilities (batch, 50) is frozen and converted with tf2onnx (opset 17), in inference mode
(batch norm on its moving statistics, no dropout). Parity is checked against musicnn's graph exactly as its
extractor builds it (is_training fed False) on random and on real-looking patches; a file that differs by
more than 1e-4 is not written. The numpy front end (mtm_daw/engine/tagger.py) is checked against musicnn's
own librosa front end (musicnn.extractor.batch_data) on a test signal. Writes into out_dir:

    musicnn_mtt.onnx, musicnn_msd.onnx   metadata_props: "tags" (JSON list of 50), "frontend" (JSON)
    musicnn_LICENSE.txt                  the wheel's ISC licence, with where the models come from
    manifest.json                        the "musicnn_mtt" and "musicnn_msd" entries (others are kept)

The runtime is mtm_daw/engine/tagger.py (numpy + onnxruntime).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path and this file would shadow the musicnn package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from mtm_daw.engine import tagger as frontend  # noqa: E402  (the runtime's front end, checked below)
from onnx_export.manifest import sha256_file, update_manifest_entry  # noqa: E402

OPSET = 17
TOLERANCE = 1e-4
MUSICNN_VERSION = "0.1.0"
INPUT_NAME = "log_mel"
OUTPUT_NAME = "tag_probabilities"
# dataset -> (musicnn model name, label list in musicnn.configuration, output file, manifest key)
MODELS = {
    "mtt": ("MTT_musicnn", "MTT_LABELS", "musicnn_mtt.onnx", "musicnn_mtt", "MagnaTagATune"),
    "msd": ("MSD_musicnn", "MSD_LABELS", "musicnn_msd.onnx", "musicnn_msd", "Million Song Dataset (last.fm tags)"),
}
LICENCE_FILE = "musicnn_LICENSE.txt"
ISC_FALLBACK = """ISC License

Copyright (c) 2019, Jordi Pons and Xavier Serra, Music Technology Group, Universitat Pompeu Fabra

Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is
hereby granted, provided that the above copyright notice and this permission notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE
INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE,
DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN
CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
"""


def _tf():
    import warnings

    warnings.filterwarnings("ignore", message=r".*is deprecated.*")  # tf.compat.v1.layers: musicnn's own code
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
    return tf


def checkpoint_prefix(model: str) -> str:
    """musicnn's checkpoint prefix inside the installed wheel (files named .index, .data-00000-of-00001)."""
    import musicnn

    return os.path.dirname(musicnn.__file__) + "/" + model + "/"


def reference_session(model: str, num_classes: int):
    """musicnn's graph exactly as musicnn.extractor builds it: (session, x, is_training, sigmoid output)."""
    tf = _tf()
    from musicnn import models

    graph = tf.Graph()
    with graph.as_default():
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, frontend.PATCH_FRAMES, frontend.N_MELS])
            is_training = tf.compat.v1.placeholder(tf.bool)
            y = models.define_model(x, is_training, model, num_classes)[0]
            normalized_y = tf.nn.sigmoid(y)
        session = tf.compat.v1.Session(graph=graph)
        session.run(tf.compat.v1.global_variables_initializer())
        tf.compat.v1.train.Saver().restore(session, checkpoint_prefix(model))
    return session, x, is_training, normalized_y


def frozen_inference_graph(model: str, num_classes: int):
    """The same model built for inference (training=False as a constant), variables restored and frozen."""
    tf = _tf()
    from musicnn import models

    graph = tf.Graph()
    with graph.as_default():
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, frontend.PATCH_FRAMES, frontend.N_MELS], name=INPUT_NAME)
            y = models.define_model(x, False, model, num_classes)[0]
        probabilities = tf.identity(tf.nn.sigmoid(y), name=OUTPUT_NAME)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            tf.compat.v1.train.Saver().restore(session, checkpoint_prefix(model))
            frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
                session, graph.as_graph_def(), [probabilities.op.name])
    return frozen, x.name, probabilities.name


def to_onnx(frozen, input_name: str, output_name: str, tags: list[str]):
    """tf2onnx conversion, inputs/outputs renamed to log_mel / tag_probabilities, metadata attached."""
    import onnx
    import tf2onnx

    proto, _ = tf2onnx.convert.from_graph_def(frozen, input_names=[input_name], output_names=[output_name],
                                              opset=OPSET)
    renames = {input_name: INPUT_NAME, output_name: OUTPUT_NAME}
    for value in list(proto.graph.input) + list(proto.graph.output):
        value.name = renames.get(value.name, value.name)
    for node in proto.graph.node:
        node.input[:] = [renames.get(name, name) for name in node.input]
        node.output[:] = [renames.get(name, name) for name in node.output]
    proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    proto.producer_name = "mtm_daw onnx_export/musicnn.py (tf2onnx)"
    onnx.helper.set_model_props(proto, {"tags": json.dumps(tags), "frontend": json.dumps(frontend.FRONTEND),
                                        "source": f"musicnn {MUSICNN_VERSION} (PyPI)", "licence": "ISC"})
    onnx.checker.check_model(proto)
    return proto


def test_signal(seconds: float = 10.0, sample_rate: int = 16000, seed: int = 0) -> np.ndarray:
    """A real-looking mix: a chord progression of sawtooth-ish tones, a bass line, kicks and hi-hat noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    y = np.zeros_like(t)
    beat = 0.5
    chords = [(57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62)]
    for i, start in enumerate(np.arange(0, seconds, 4 * beat)):
        span = (t >= start) & (t < start + 4 * beat)
        for pitch in chords[i % len(chords)]:
            f = 440.0 * 2 ** ((pitch - 69) / 12)
            y[span] += sum(0.08 / h * np.sin(2 * np.pi * f * h * t[span]) for h in range(1, 8))
        bass = 440.0 * 2 ** ((chords[i % len(chords)][0] - 12 - 69) / 12)
        y[span] += 0.25 * np.sin(2 * np.pi * bass * t[span])
    for start in np.arange(0, seconds, beat):
        n = (t >= start) & (t < start + 0.3)
        tau = t[n] - start
        y[n] += 0.6 * np.sin(2 * np.pi * (50 + 80 * np.exp(-tau * 30)) * tau) * np.exp(-tau * 12)
        h = (t >= start + beat / 2) & (t < start + beat / 2 + 0.05)
        y[h] += 0.1 * rng.standard_normal(h.sum()) * np.exp(-(t[h] - start - beat / 2) * 80)
    return (0.8 * y / np.abs(y).max()).astype(np.float32)


def check_frontend(scratch: Path) -> dict:
    """The numpy front end against musicnn's own (librosa) batch_data on a test WAV, at 16 kHz and 44.1 kHz."""
    import soundfile
    from musicnn.extractor import batch_data

    result = {}
    for rate in (16000, 44100):
        y = test_signal(sample_rate=rate)
        path = scratch / f"frontend_{rate}.wav"
        soundfile.write(str(path), y, rate, subtype="FLOAT")
        reference, _ = batch_data(str(path), frontend.PATCH_FRAMES, frontend.PATCH_FRAMES)
        ours = frontend.log_mel_patches(y, rate, max_patches=10 ** 6)
        if ours.shape != reference.shape:
            raise SystemExit(f"front end: {ours.shape} patches, musicnn makes {reference.shape}")
        result[f"max_abs_error_{rate}hz"] = float(np.abs(ours - reference).max())
    worst = max(result.values())
    print(f"front end vs musicnn.extractor.batch_data: {result}")
    if worst > TOLERANCE:
        raise SystemExit(f"the numpy front end differs from musicnn's by {worst:.2e} (> {TOLERANCE}); not exporting")
    return result


def parity_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    real = frontend.log_mel_patches(test_signal(seconds=15.0, sample_rate=16000, seed=2), 16000)
    return {
        "random": rng.uniform(0.0, 5.0, (5, frontend.PATCH_FRAMES, frontend.N_MELS)).astype(np.float32),
        "real_looking": real,
        "silence": np.zeros((1, frontend.PATCH_FRAMES, frontend.N_MELS), dtype=np.float32),
    }


def export_tagger(dataset: str, out_dir: Path, scratch: Path, frontend_check: dict) -> dict:
    import onnx
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx
    from musicnn import configuration

    model, labels_attr, file_name, key, corpus = MODELS[dataset]
    tags = list(getattr(configuration, labels_attr))
    assert len(tags) == frontend.N_TAGS, len(tags)

    frozen, input_name, output_name = frozen_inference_graph(model, len(tags))
    proto = to_onnx(frozen, input_name, output_name, tags)
    staged = scratch / file_name
    onnx.save(proto, str(staged))

    session, x, is_training, normalized_y = reference_session(model, len(tags))
    onnx_session = ort.InferenceSession(str(staged), providers=["CPUExecutionProvider"])
    parity = {}
    for name, batch in parity_inputs().items():
        reference = session.run(normalized_y, feed_dict={x: batch, is_training: False})
        ours = onnx_session.run([OUTPUT_NAME], {INPUT_NAME: batch})[0]
        parity[f"max_abs_error_{name}"] = float(np.abs(ours - reference).max())
        if name == "real_looking":
            mean = reference.mean(axis=0)
            best = ", ".join(f"{tags[i]} {mean[i]:.2f}" for i in np.argsort(-mean)[:5])
            print(f"  {model} on the test signal: {best}")
    session.close()
    print(f"{model} -> {file_name}: parity {parity}")
    worst = max(parity.values())
    if not worst <= TOLERANCE:
        raise SystemExit(f"{file_name}: ONNX differs from TensorFlow by {worst:.2e} (> {TOLERANCE}); not writing it")

    target = out_dir / file_name
    os.replace(staged, target)
    entry = {
        "file": file_name, "sha256": sha256_file(target), "bytes": target.stat().st_size,
        "tags": tags,
        "config": {"frontend": frontend.FRONTEND, "input": INPUT_NAME, "output": OUTPUT_NAME,
                   "model": model, "dataset": corpus},
        "parity": {**parity, "checked_patches": {k: int(v.shape[0]) for k, v in parity_inputs().items()},
                   "frontend": frontend_check, "tolerance": TOLERANCE},
        "exported_with": {"tensorflow": tf.__version__, "tf2onnx": tf2onnx.__version__, "onnx": onnx.__version__,
                          "opset": OPSET},
        "source": f"musicnn {MUSICNN_VERSION} (PyPI)",
        "licence": "ISC",
        "license": "ISC",
        "license_file": LICENCE_FILE,
        "paper": "Pons & Serra, musicnn: pre-trained convolutional neural networks for music audio tagging, "
                 "ISMIR 2019 late-breaking demo (arXiv:1909.06654)",
        "version": 1,
    }
    update_manifest_entry(out_dir, key, entry)
    return entry


def write_licence(out_dir: Path) -> Path:
    from importlib import metadata

    dist = metadata.distribution("musicnn")
    licence = None
    for file in dist.files or []:
        if file.name.upper().startswith(("LICENSE", "LICENCE", "COPYING")):
            licence = file.read_text(encoding="utf-8")
            break
    if not licence or not licence.strip():
        licence = ISC_FALLBACK
        origin = "(the wheel ships no licence file; ISC text per its PyPI metadata)"
    else:
        origin = f"(musicnn-{dist.version}.dist-info/{file.name}, unchanged)"
    header = (f"mtm_daw music taggers (musicnn_mtt.onnx, musicnn_msd.onnx)\n\n"
              f"Source: the MTT_musicnn and MSD_musicnn TensorFlow checkpoints in the musicnn {dist.version} wheel\n"
              "from PyPI (https://github.com/jordipons/musicnn), by Jordi Pons and Xavier Serra, Music Technology\n"
              "Group, Universitat Pompeu Fabra. Converted to ONNX by onnx_export/musicnn.py (weights unchanged,\n"
              "inference mode). Paper: Pons & Serra, \"musicnn: pre-trained convolutional neural networks for music\n"
              "audio tagging\", ISMIR 2019 late-breaking demo. Licence: ISC, below " + origin + ".\n"
              "mtm_daw's front end (mtm_daw/engine/tagger.py) reimplements musicnn's in numpy.\n\n" + "-" * 78 + "\n\n")
    path = out_dir / LICENCE_FILE
    path.write_text(header + licence.strip() + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "mtm_daw" / "weights")
    parser.add_argument("--only", choices=sorted(MODELS), action="append", help="export only this tagger")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.out_dir) as scratch:  # same filesystem: os.replace stays atomic
        scratch = Path(scratch)
        frontend_check = check_frontend(scratch)
        for dataset in args.only or sorted(MODELS):
            entry = export_tagger(dataset, args.out_dir, scratch, frontend_check)
            print(json.dumps({k: entry[k] for k in ("file", "bytes", "sha256")}))
    print(f"licence: {write_licence(args.out_dir)}")


if __name__ == "__main__":
    main()
