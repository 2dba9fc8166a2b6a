import pytest

from mtm_daw.description import GENRES, HitPoint, MusicDescription, Section
from mtm_daw.score import gm
from mtm_daw.compose.baseline import compose, meter_pulses
from mtm_daw.score.theory import parse_key


def _pitch_classes(track):
    return {note.pitch % 12 for note in track.notes}


@pytest.mark.parametrize("genre", GENRES)
def test_every_genre_writes_every_role_in_key(genre):
    description = MusicDescription(genre=genre, mood="sad", key="A minor", tempo=100, duration=30)
    score = compose(description, seed=5)
    assert list(score.tracks) == ["drums", "bass", "harmony", "melody"]
    assert all(track.notes for track in score.tracks.values())
    assert score.tracks["drums"].is_drum
    key = parse_key("A minor")
    diatonic = set(key.scale_pitch_classes()) | {(key.tonic + 11) % 12}  # plus the raised leading tone
    for role in ("harmony", "melody"):
        assert _pitch_classes(score.tracks[role]) <= diatonic, role
    # the cue ends on the tonic chord
    last_bar_start = score.length_beats - score.beats_per_bar
    final_harmony = [n.pitch % 12 for n in score.tracks["harmony"].notes if n.onset >= last_bar_start]
    assert key.tonic in final_harmony


def test_genres_sound_different():
    grooves = {}
    for genre in GENRES:
        score = compose(MusicDescription(genre=genre, duration=16), seed=0)
        drums = score.tracks["drums"]
        grooves[genre] = (frozenset((round(n.onset % score.beats_per_bar, 3), n.pitch) for n in drums.notes),
                          score.tracks["harmony"].program, score.tracks["bass"].program)
    assert len(set(grooves.values())) == len(GENRES)


def test_same_seed_same_score_other_seed_other_melody():
    description = MusicDescription(genre="pop", duration=20)
    assert compose(description, seed=4).to_dict() == compose(description, seed=4).to_dict()
    assert compose(description, seed=4).tracks["melody"].notes != compose(description, seed=5).tracks["melody"].notes


@pytest.mark.parametrize("signature,steps", [((4, 4), 16), ((3, 4), 12), ((6, 8), 12), ((7, 8), 14), ((5, 4), 20)])
def test_time_signature_sets_bar_length(signature, steps):
    score = compose(MusicDescription(time_signature=signature, tempo=120, duration=20), seed=1)
    assert score.time_signature == signature
    assert score.beats_per_bar == steps / 4
    assert score.length_beats % score.beats_per_bar == 0
    kicks = [n.onset for n in score.tracks["drums"].notes if n.pitch == gm.KICK]
    downbeats = {round(bar * score.beats_per_bar, 6) for bar in range(score.bars)}
    assert downbeats & set(kicks), "kicks land on bar lines"


def test_meter_pulses():
    assert meter_pulses(16, 4) == [0, 4, 8, 12]
    assert meter_pulses(12, 8) == [0, 6]
    assert meter_pulses(14, 8) == [0, 4, 8]


def test_length_is_whole_bars_covering_the_duration():
    score = compose(MusicDescription(tempo=100, duration=30), seed=0)
    assert score.length_seconds >= 30
    assert score.length_seconds - 30 < score.beats_per_bar * 60 / 100


def test_energy_raises_density_and_velocity():
    quiet = compose(MusicDescription(genre="pop", duration=24, sections=[Section("a", 0, 24, 0.2)]), seed=2)
    loud = compose(MusicDescription(genre="pop", duration=24, sections=[Section("a", 0, 24, 0.95)]), seed=2)
    for role in ("drums", "bass", "harmony"):
        assert len(loud.tracks[role].notes) > len(quiet.tracks[role].notes), role
    mean = lambda track: sum(n.velocity for n in track.notes) / len(track.notes)  # noqa: E731
    assert mean(loud.tracks["drums"]) > mean(quiet.tracks["drums"]) + 10


def test_energy_curve_overrides_sections():
    description = MusicDescription(genre="rock", duration=32, energy=[(0, 0.1), (16, 0.1), (16.01, 1.0), (32, 1.0)])
    score = compose(description, seed=0)
    first = [n for n in score.tracks["drums"].notes if n.onset < 32]
    second = [n for n in score.tracks["drums"].notes if 32 <= n.onset < 60]
    assert len(second) > len(first)


def test_hit_points_get_a_crash_accent_and_a_fill():
    description = MusicDescription(genre="ambient", tempo=90, duration=30, hit_points=[HitPoint(13.0)])
    score = compose(description, seed=0)
    hit_beat = 13.0 * 90 / 60
    at_hit = [n for n in score.tracks["drums"].notes if abs(n.onset - hit_beat) < 0.13]
    assert any(n.pitch == gm.CRASH and n.velocity >= 115 for n in at_hit)
    before = [n for n in score.tracks["drums"].notes if hit_beat - 1.0 <= n.onset < hit_beat - 0.1]
    assert len(before) >= 4, "a fill leads into the hit"
    assert any(abs(n.onset - hit_beat) < 0.13 and n.velocity >= 115 for n in score.tracks["harmony"].notes)


def test_roles_subset_and_instruments():
    description = MusicDescription(roles=("bass", "melody"), instruments={"melody": 73})
    score = compose(description, seed=0)
    assert list(score.tracks) == ["bass", "melody"]
    assert score.tracks["melody"].program == 73


def test_default_form_has_sections_and_melody_rests_in_intro():
    score = compose(MusicDescription(genre="pop", tempo=120, duration=40), seed=0)
    first_melody = min(n.onset for n in score.tracks["melody"].notes)
    assert first_melody >= 2 * score.beats_per_bar  # two-bar intro without melody


@pytest.mark.parametrize("signature", [(1, 16), (1, 8), (2, 2), (9, 8), (11, 16)])
def test_unusual_meters_compose(signature):
    score = compose(MusicDescription(time_signature=signature, duration=6), seed=0)
    assert all(track.notes for track in score.tracks.values())
