"""Evaluation: the MTM paper's metrics that can be computed offline, attribute adherence, and `mtm eval`.

One job per module:
  rhythm.py         BeatMSE (music beats against the video's cuts and motion onsets)
  distributions.py  Fréchet distance, Gaussian KL of embedding sets, KL of label distributions
  embedders.py      pluggable embedders (our joint space by default, a local CLAP folder) and the CLAP score
  adherence.py      tempo, key and time-signature adherence (rendered audio and notes)
  notes.py          note statistics against the training data
  evalset.py        reading an evaluation set (mtm_daw/data/eval is the bundled one)
  runner.py         every engine on every input with the same seeds, measured
  report.py         eval.md, eval.json and plots
Reference faithfulness reuses mtm_daw.evaluation.metrics.reference_similarity.
"""
from mtm_daw.evaluation.evalset import BUNDLED_SET, load_eval_set
from mtm_daw.evaluation.report import write_report
from mtm_daw.evaluation.runner import ENGINES, EvalSettings, run_eval

__all__ = ["BUNDLED_SET", "ENGINES", "EvalSettings", "load_eval_set", "run_eval", "write_report"]
