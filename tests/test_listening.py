"""Audio and MIDI heard as what they are: musicnn's taggers and the joint space vote on the style."""

from mtm_daw.compose.baseline import compose
from mtm_daw.describe import describe
from mtm_daw.describe.listening import MSD_STYLES, hear, styles_from_tags
from mtm_daw.description import MusicDescription
from mtm_daw.export.wav import write_wav
from mtm_daw.render import make_renderer, render_mono
from mtm_daw.score.midi import score_to_midi
from mtm_daw.score.styles import STYLE_NAMES, style_for

SAMPLE_RATE = 16000


def style_render(name: str, seed: int = 3, seconds: float = 16.0):
    style = style_for(name)
    description = MusicDescription(genre=name, tempo=style.default_tempo, key=style.keys[0],
                                   time_signature=style.meter, duration=seconds)
    score = compose(description, seed=seed)
    renderer = make_renderer(synth="soundfont", sample_rate=SAMPLE_RATE)
    return score, render_mono(score, renderer, seconds)


def test_a_tag_naming_several_styles_goes_to_those_at_the_musics_tempo():
    assert set(MSD_STYLES) and all(name in STYLE_NAMES for names in MSD_STYLES.values() for name in names)
    fast = styles_from_tags({"electronic": 1.0}, bpm=174)
    assert max(fast, key=fast.get) == "drum-and-bass" and fast["house"] == 0.0
    club = styles_from_tags({"electronic": 1.0}, bpm=124)
    assert club["house"] > 0 and club["drum-and-bass"] == 0.0
    nowhere = styles_from_tags({"electronic": 1.0}, bpm=300)  # no style plays there: every named one shares
    assert nowhere["house"] == nowhere["drum-and-bass"] > 0
    assert styles_from_tags({"female vocalists": 1.0}, bpm=120) == {}  # no style in that tag


def test_three_styles_are_heard_as_three_styles(tmp_path):
    heard = {}
    for name in ("jazz", "ambient", "rock"):
        _, samples = style_render(name)
        result = hear(samples, SAMPLE_RATE, style_for(name).keys[0], style_for(name).default_tempo)
        assert abs(sum(c for _, c in result.styles) - 1.0) < 1e-3 and result.listeners == ["musicnn", "joint space"]
        heard[name] = result.style[0]
    assert heard == {"jazz": "jazz", "ambient": "ambient", "rock": "rock"}


def test_describe_hears_an_audio_file_and_a_midi_file(tmp_path):
    score, samples = style_render("jazz", seconds=12.0)
    wav = tmp_path / "loop.wav"
    write_wav(wav, samples[None, :], SAMPLE_RATE)
    notes = []
    description = describe(str(wav), notes=notes.append)
    assert description.genre == "jazz"
    heard, confidences = notes  # what was heard, with the confidences the description has no field for
    assert heard.startswith("heard as jazz ") and "% (musicnn and joint space); mood " in heard
    assert "instruments " in heard and confidences.startswith("tempo confidence 0.")
    midi = tmp_path / "loop.mid"
    score_to_midi(score).save(str(midi))
    assert describe(str(midi)).genre == "jazz"
