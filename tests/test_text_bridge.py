"""Text ideas, audio and MIDI files -> MusicDescription; sentences re-render from fields."""
import mido
import pytest

from mtm_daw.describe import describe, looks_like_path
from mtm_daw.describe.text import parse_text
from mtm_daw.description import MusicDescription
from mtm_daw.errors import MtmError


def parse(text):
    return parse_text(text, zero_shot_encoder=None).description


@pytest.mark.parametrize("text,expected", [
    ("A gentle piano melody with soft strings, nostalgic, 72 BPM in A minor",
     dict(tempo=72, key="A minor", instruments={"melody": 0, "harmony": 48})),
    ("fast rock with distorted guitar in E minor, 1:30", dict(genre="rock", tempo=142, key="E minor", duration=90)),
    ("a waltz for cello and harp that builds up, 45 seconds, F# major",
     dict(time_signature=(3, 4), key="F# major", duration=45, instruments={"melody": 42, "harmony": 46})),
    ("slow jazz with upright bass and a saxophone solo", dict(genre="jazz", tempo=83, instruments={"bass": 32, "melody": 65},
                                                                roles=("drums", "bass", "harmony", "melody"))),
    ("dark ominous techno, 128 bpm, 2 minutes", dict(genre="techno", mood="dark", tempo=128, duration=120)),
    ("epic orchestral trailer in 6/8 with french horn melody and choir",
     dict(genre="orchestral", mood="epic", time_signature=(6, 8), instruments={"melody": 60, "harmony": 52})),
    ("playful music box tune in Bb major", dict(mood="playful", key="Bb major", instruments={"melody": 10})),
    ("electric piano chords and synth bass, house, 1 min 30 s",
     dict(genre="house", duration=90, instruments={"harmony": 4, "bass": 38})),
    # what producers type (issue 15)
    ("drum and bass 174", dict(genre="drum-and-bass", tempo=174, instruments={})),
    ("lofi hip hop beat for studying", dict(genre="lo-fi")),
    ("country ballad with pedal steel", dict(genre="country", instruments={"melody": 27})),
    ("bossa nova guitar, relaxed", dict(genre="bossa-nova", mood="calm", instruments={})),
    ("dark techno 130 bpm", dict(genre="techno", mood="dark", tempo=130)),
    ("sad solo piano waltz", dict(time_signature=(3, 4), roles=("harmony", "melody"),
                                  instruments={"harmony": 0, "melody": 0})),
    ("just drums and bass, funky", dict(genre="funk", roles=("drums", "bass"))),
    ("ambient pads, no drums", dict(genre="ambient", roles=("bass", "harmony", "melody"))),
    ("a cappella hymn", dict(roles=("harmony", "melody"), instruments={"harmony": 52, "melody": 53})),
    ("trap with 808, no melody", dict(genre="trap", roles=("drums", "bass", "harmony"))),
    ("d&b roller", dict(genre="drum-and-bass")),
    ("chillhop with rhodes", dict(genre="lo-fi")),
    ("80s synthwave night drive", dict(genre="synthwave")),
    ("epic trailer music", dict(genre="cinematic", mood="epic")),
    ("irish jig", dict(genre="folk", time_signature=(6, 8))),
    ("blues shuffle with hammond", dict(genre="blues", instruments={"harmony": 16})),
    ("reggae one drop at 76", dict(genre="reggae", tempo=76)),
    ("salsa with steel drums", dict(genre="salsa", instruments={"melody": 114})),
    ("nylon guitar and tenor sax", dict(instruments={"harmony": 24, "melody": 66})),
    ("clavinet funk with slap bass", dict(genre="funk", instruments={"harmony": 7, "bass": 36})),
    ("metal in 7/8", dict(genre="metal", time_signature=(7, 8))),
    ("the 90s rock sound, 3 minutes", dict(genre="rock", duration=180)),
])
def test_text_fields(text, expected):
    description = parse(text)
    for field, value in expected.items():
        assert getattr(description, field) == value, field
    assert description.sentence == text


def test_a_key_is_chosen_from_style_and_mood_when_none_is_named():
    description = parse("sad cello")
    assert description.key.endswith("minor") and description.tempo == 74
    assert parse("sad cello").key == description.key  # the same text, the same key
    keys = {parse(f"{style} track").key for style in ("house", "jazz", "country", "techno", "reggae", "pop",
                                                        "folk", "bossa nova", "rock", "metal")}
    assert len(keys) >= 4 and not keys <= {"C major", "A minor"}
    assert parse("happy ukulele song").key.endswith("major")


def test_neighbours_and_meaning_come_with_a_notice():
    parsed = parse_text("jungle at 170", zero_shot_encoder=None)
    assert parsed.description.genre == "drum-and-bass" and parsed.description.tempo == 170
    assert "'jungle'" in parsed.notices[0] and "drum-and-bass" in parsed.notices[0]
    assert parse_text("dnb", zero_shot_encoder=None).notices == []


@pytest.mark.parametrize("text,tempo", [("house 124", 124), ("house, 12 bars", None), ("dnb, 90s style", None),
                                        ("techno in 5/4", None), ("808 trap", None), ("track 300", None),
                                        ("ambient 45 s", None), ("rock, 99% energy", None)])
def test_a_bare_number_is_a_tempo_only_when_it_can_be_one(text, tempo):
    parsed = parse_text(text, zero_shot_encoder=None)
    assert (parsed.evidence["tempo"].startswith("the number")) == (tempo is not None)
    if tempo:
        assert parsed.description.tempo == tempo


def test_energy_words_shape_the_curve():
    rising = parse("calm ambient that builds up to a big finish, 40 s")
    assert rising.energy[0][1] < rising.energy[-1][1] and rising.energy[-1][0] == 40
    falling = parse("happy pop that fades out")
    assert falling.energy[0][1] > falling.energy[-1][1]


def test_evidence_says_where_each_field_came_from():
    parsed = parse_text("jazz, 100 bpm", zero_shot_encoder=None)
    assert parsed.evidence["genre"] == "the word 'jazz'"
    assert parsed.evidence["tempo"] == "'100 bpm'"
    assert parsed.evidence["mood"] == "default"


@pytest.mark.parametrize("text,message", [("", "empty"), ("   ", "empty"), ("x" * 3000, "characters"),
                                          ("calm piano, 90 minutes", "durations run"),
                                          ("rock in 4/3", "time signature")])
def test_bad_text(text, message):
    with pytest.raises(MtmError, match=message):
        parse(text)


def test_zero_shot_fills_what_the_vocabulary_misses():
    class FakeEncoder:  # puts the text next to the "jazz" style and "romantic" mood prompts
        def encode(self, texts):
            import numpy as np
            vectors = np.zeros((len(texts), 3), dtype=np.float32)
            vectors[0] = (1, 1, 0)
            for i, text in enumerate(texts[1:], start=1):
                vectors[i] = (1, 0, 0) if text.startswith(("jazz music", "romantic music")) else (0, 0, 1)
            return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    parsed = parse_text("smoky late-night bar", zero_shot_encoder=FakeEncoder())
    assert (parsed.description.genre, parsed.description.mood) == ("jazz", "romantic")
    assert "closest in meaning" in parsed.evidence["genre"]


def test_sentence_rerenders_when_a_field_changes():
    description = MusicDescription(genre="pop", mood="sad", tempo=72, key="A minor", instruments={"melody": 0})
    first = description.to_sentence()
    assert first == ("A gentle pop cue with a piano melody over piano, electric bass and drums, "
                     "tender and nostalgic, 72 BPM in A minor.")
    description.instruments["melody"] = 73
    description.tempo = 90
    assert description.to_sentence() == first.replace("a piano melody", "a flute melody").replace("72", "90")


def test_describe_text_file_audio_and_midi(tmp_path, pop_cue):
    idea = tmp_path / "idea.txt"
    idea.write_text("happy jazz with vibraphone, 110 bpm")
    assert describe(idea).genre == "jazz"

    midi = mido.MidiFile(type=1)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(84)),
                            mido.MetaMessage("key_signature", key="Em"),
                            mido.Message("program_change", program=42)])
    for pitch in (64, 67, 71, 76):
        track += [mido.Message("note_on", note=pitch, velocity=80, time=0),
                  mido.Message("note_off", note=pitch, time=960)]
    midi.tracks.append(track)
    midi.save(tmp_path / "theme.mid")
    from_midi = describe(tmp_path / "theme.mid")
    assert (from_midi.tempo, from_midi.key, from_midi.roles, from_midi.instruments) == (
        84, "E minor", ("melody",), {"melody": 42})

    from mtm_daw.export.wav import write_wav
    write_wav(tmp_path / "loop.wav", pop_cue.mix, pop_cue.sample_rate)
    from_audio = describe(tmp_path / "loop.wav")
    assert from_audio.tempo == pytest.approx(120, abs=2)
    assert from_audio.duration == pytest.approx(pop_cue.mix.shape[1] / pop_cue.sample_rate, abs=0.05)


def test_paths_and_ideas_are_told_apart(tmp_path):
    assert looks_like_path("clip.mp4") and looks_like_path("/some/folder/clip")
    assert not looks_like_path("calm piano, 80 bpm")
    with pytest.raises(MtmError, match="file not found"):
        describe(str(tmp_path / "missing.mov"))
    with pytest.raises(MtmError, match="needs --model"):
        describe("calm piano", describer="vlm")


@pytest.mark.parametrize("text,duration", [("80s synth pop", 30.0), ("retro 1980s pop", 30.0),
                                           ("calm piano, 45s", 45.0), ("2000s rock, 90 s", 90.0)])
def test_decades_are_not_durations(text, duration):
    assert parse(text).duration == duration
