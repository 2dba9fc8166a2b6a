"""Reading the audio files a test wrote, as the DAW would get them."""
import numpy as np
from pedalboard.io import AudioFile


def read_audio(path) -> np.ndarray:
    """(channels, samples) float32 of an audio file."""
    with AudioFile(str(path)) as handle:
        return handle.read(handle.frames)
