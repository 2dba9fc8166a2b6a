"""The plan: chord symbols, chords heard in notes, forms, the planner, and the groove songs made for training."""
import shutil

import numpy as np
import pytest

from mtm_daw.cli import main
from mtm_daw.compose.baseline import compose
from mtm_daw.compose.planner import make_plan
from mtm_daw.description import HitPoint, MusicDescription
from mtm_daw.errors import MtmError
from mtm_daw.evaluation import structure
from mtm_daw.plan.chords import Chord, chords_from_score, diatonic_chord, parse_chord, parse_progression
from mtm_daw.plan.form import form_ties
from mtm_daw.plan.plan import Plan, plan_from_score
from mtm_daw.score.score import Note, Score, Track
from mtm_daw.score.theory import parse_key


@pytest.mark.parametrize("text, root, quality", [
    ("Am", 9, "min"), ("F", 5, "maj"), ("C7", 0, "7"), ("Bbmaj7", 10, "maj7"), ("F#m7b5", 6, "m7b5"),
    ("Dsus4", 2, "sus4"), ("Ebdim", 3, "dim"), ("G/B", 7, "maj"), ("c#m", 1, "min"), ("Abm7", 8, "m7")])
def test_chord_symbols(text, root, quality):
    assert parse_chord(text) == Chord(root, quality)


def test_progressions_bar_by_bar():
    assert parse_progression("Am F C G") == [(Chord(9, "min"),), (Chord(5),), (Chord(0),), (Chord(7),)]
    assert parse_progression("Am F | C G") == [(Chord(9, "min"), Chord(5)), (Chord(0), Chord(7))]


@pytest.mark.parametrize("fields, message", [
    ({"chords": "Am H C"}, "chords: cannot read 'H'"),
    ({"chords": "Am F | | C"}, "chords: an empty bar"),
    ({"chords": "F# C# G#m D#m", "key": "C major"}, "lie outside C major"),
    ({"form": "AAB1"}, "form: 'AAB1' is not a form"),
    ({"form": "ABABABABABABABAB", "duration": 10.0}, "has 16 sections but the cue has only 5 bars"),
])
def test_bad_plans_are_refused_naming_the_field(fields, message):
    with pytest.raises(MtmError, match=message):
        MusicDescription(**fields).validate()


def test_chords_are_heard_in_notes():
    notes = [Note(0, 4, p, 80) for p in (57, 60, 64)] + [Note(4, 4, p, 80) for p in (55, 59, 62, 65)]
    score = Score(120, (4, 4), "C major", {"harmony": Track("harmony", 0, notes), "bass": Track("bass", 0, [
        Note(0, 4, 45, 80), Note(4, 4, 43, 80)])}, 12)
    assert chords_from_score(score, 4.0) == [Chord(9, "min"), Chord(7, "7"), None]


def test_the_planner_brings_sections_back_with_their_chords():
    description = MusicDescription(key="D minor", tempo=120, duration=32.0)  # 16 bars
    plan = make_plan(description, seed=3)
    assert plan.bars == 16 and len(plan.form) == 4
    first = {}
    for section in plan.sections:  # a returning label brings the same chords (but for the cue's last bar)
        chords = plan.chords[section.start_bar:min(section.end_bar, plan.bars - 1)]
        assert first.setdefault(section.label, chords)[:len(chords)] == chords
    assert plan.chords[-1] == (diatonic_chord(parse_key("D minor"), 0),)  # the cue ends home
    assert make_plan(description, seed=3).to_dict() == plan.to_dict()  # seeded
    assert len({make_plan(description, seed=s).form + str(make_plan(description, seed=s).chords) for s in range(8)}) > 2


def test_a_pinned_form_and_progression():
    description = MusicDescription(key="A minor", tempo=120, duration=32.0, chords="Am F C G", form="AABA")
    plan = make_plan(description)
    assert plan.form == "AABA" and [s.bars for s in plan.sections] == [4, 4, 4, 4]
    assert [bar[0].name() for bar in plan.chords[:4]] == ["Am", "F", "C", "G"]
    assert [(r.bar, r.source_bar) for r in plan.repeats()] == [(4, 0), (12, 0)]
    assert Plan.from_dict(plan.to_dict()).to_dict() == plan.to_dict()
    # the baseline composer plays the pinned chords, bar by bar
    heard = plan_from_score(compose(description, seed=1), chord_beats=4.0)
    assert [bar[0].name() for bar in heard.chords[:8]] == ["Am", "F", "C", "G"] * 2


def test_plan_tokens_mark_chords_phrases_and_sections():
    description = MusicDescription(key="A minor", tempo=120, duration=32.0, chords="Am F C G", form="AABA")
    plan = make_plan(description)
    tokens = plan.tokens(parse_key("A minor"), 0.0, 64)
    assert tokens[0, 0] == Chord(9, "min").model_id(9) == 2  # the tonic's minor chord
    assert tokens[4, 0] == Chord(5).model_id(9)  # F: bar 2
    assert list(tokens[::4, 1][:4]) == [0, 1, 2, 3 + 8]  # bar in phrase, the phrase's last bar marked
    assert list(tokens[::16, 2]) == [0, 0, 1, 0]  # A A B A


def test_form_ties_return_sections_and_hold_the_groove():
    description = MusicDescription(key="A minor", tempo=120, duration=32.0, form="AABA")
    ties = form_ties(make_plan(description), ("drums", "bass", "harmony", "melody"))
    whole = {(t.bar, t.source_bar) for t in ties if len(t.columns) > 100}
    assert whole == {(4, 0), (5, 1), (6, 2), (7, 3), (12, 0), (13, 1), (14, 2)}  # bar 16 goes home: free
    drums_only = {(t.bar, t.source_bar) for t in ties if len(t.columns) < 100}
    assert drums_only == {(1, 0), (2, 0), (9, 8), (10, 8)}  # the phrase ends (bars 4, 12: fills) stay free


def test_the_plan_heard_in_music_finds_its_repeats():
    description = MusicDescription(key="A minor", tempo=120, duration=32.0, chords="Am F C G", form="AABA")
    score = compose(description, seed=4)
    assert plan_from_score(score).form[:2] in ("AA", "AB")
    repeated = Score(120, (4, 4), "C major", {"melody": Track("melody", 0, [
        Note(bar * 4 + beat, 1, 60 + (bar % 4) * 2 + beat, 90) for bar in range(16) for beat in range(4)])}, 64)
    assert plan_from_score(repeated).form == "AAAA"


def test_structure_metrics_on_a_known_score():
    melody = [Note(bar * 4 + beat, 1, [60, 62, 64, 65][beat] + (12 if bar % 4 == 3 else 0), 100)
              for bar in range(8) for beat in range(4)]
    score = Score(120, (4, 4), "C major", {"melody": Track("melody", 0, melody)}, 32)
    assert structure.repeat_share(score, "melody") == 1.0
    assert structure.bar_similarity(score, "melody", 4) == 1.0
    assert structure.bar_similarity(score, "melody", 1) == pytest.approx(4 / 7)  # 3 of 7 pairs change octave
    steps, leaps = structure.melody_motion(score)
    assert steps > 0.6 and leaps > 0.0
    assert structure.velocity_spread(score, "melody") == 0.0
    assert np.isnan(structure.chord_tone_share(score)[0])  # no accompaniment to hear chords in
    drums = Track("drums", 0, [Note(4.0, 0.25, 49, 110)], is_drum=True)
    with_drums = Score(120, (4, 4), "C major", {"drums": drums}, 32)
    assert structure.hit_accent_share(with_drums, [4.2, 8.0]) == 0.5


def test_cli_takes_chords_and_form(tmp_path):
    code = main(["compose", "--key", "A minor", "--chords", "Am F C G", "--form", "AABA", "--duration", "8",
                 "--synth", "builtin", "-o", str(tmp_path), "--quiet"])
    assert code == 0
    code = main(["compose", "--key", "A minor", "--chords", "Am H", "--duration", "8", "--synth", "builtin",
                 "-o", str(tmp_path / "bad"), "--quiet"])
    assert code == 2


@pytest.mark.skipif(shutil.which("mma") is None, reason="Debian's mma renders the groove songs")
def test_groove_songs_put_human_grooves_under_a_tune(tmp_path):
    from training.grooves import HELD_OUT_GROOVES, groove_song, harmonise

    tune = [Note(bar * 4 + beat, 1, p, 80) for bar, pitches in enumerate(
        [(60, 64, 67, 64), (65, 69, 72, 69), (67, 71, 74, 71), (72, 67, 64, 60)]) for beat, p in enumerate(pitches)]
    melody = Score(120, (4, 4), "C major", {"melody": Track("melody", 73, tune)}, 16)
    assert [c.name() for c in harmonise(melody, parse_key("C major"))] == ["C", "F", "G", "C"]
    song, genre, groove = groove_song(melody, "test/tune", tmp_path, held_out=False)
    assert groove not in HELD_OUT_GROOVES
    assert {"drums", "bass", "harmony", "melody"} <= set(song.tracks) and song.tracks["drums"].is_drum
    assert [n.pitch for n in song.tracks["melody"].notes] == [n.pitch for n in tune]
    bass_roots = [n.pitch % 12 for n in song.tracks["bass"].notes if n.onset % 4 == 0]
    assert bass_roots[:4] == [0, 5, 7, 0]  # the groove plays the tune's chords
    assert groove_song(melody, "test/tune", tmp_path, held_out=True)[2] in HELD_OUT_GROOVES


@pytest.mark.skipif(shutil.which("mma") is None, reason="Debian's mma renders the groove songs")
def test_swing_grooves_are_written_straight_for_the_roll(tmp_path):
    """mma's swing plays the off-beat eighth two thirds into the beat; read straight, the sixteenth grid put
    it on the last sixteenth (a dotted-eighth groove). It is written on the eighth, as our swung styles are."""
    from training.grooves import render_accompaniment

    chords = [diatonic_chord(parse_key("F major"), degree) for degree in (0, 3, 4, 0)]
    swing = render_accompaniment(chords, parse_key("F major"), "Swing", 140, 4, tmp_path)
    places = [round(n.onset % 1, 2) for track in swing.values() for n in track.notes]
    assert places.count(0.5) >= 8 and not any(0.6 < place < 0.75 for place in places)
    straight = render_accompaniment(chords, parse_key("F major"), "8Beat", 120, 4, tmp_path)
    assert sum(0.45 < n.onset % 1 < 0.55 for n in straight["drums"].notes) >= 8  # unchanged


def test_groove_songs_teach_only_drums_that_play_their_style():
    from dataclasses import replace

    from training.corpus import CorpusPiece
    from training.grooves import is_swung, unswing, with_drums_of_its_style

    swung = [Note(0, 0.66, 51, 90), Note(0.66, 0.34, 51, 70), Note(1, 1, 51, 90), Note(2.68, 0.3, 51, 70)]
    assert is_swung([swung]) and not is_swung([[Note(0.5, 0.5, 42, 80), Note(1.5, 0.5, 42, 80)]])
    triplets = [Note(beat + third / 3, 1 / 3, 42, 80) for beat in range(4) for third in range(3)]  # a 12/8 ballad
    assert not is_swung([triplets])
    assert [(n.onset, round(n.onset + n.duration, 6)) for n in unswing(swung)] == [(0, 0.66), (0.5, 1.0), (1, 2),
                                                                                  (2.5, 2.98)]

    def song(groove, meter, pattern):
        """Eight bars of one drum pattern ({GM key: one bar of sixteenths}) under a bass note a bar."""
        beats = meter[0] * 4 / meter[1]
        drums = [Note(bar * beats + step / 4, 0.25, key, 90) for bar in range(8) for key, steps in pattern.items()
                 for step, char in enumerate(steps) if char == "x"]
        tracks = {"drums": Track("drums", 0, drums, is_drum=True),
                  "bass": Track("bass", 32, [Note(bar * beats, beats, 41, 80) for bar in range(8)])}
        score = Score(140, meter, "F major", tracks, 8 * beats)
        return CorpusPiece(score, "jazz", "calm", f"tune+mma/{groove}")

    spang = "x...x.x.x...x.x."
    on_the_ride = song("Swing", (4, 4), {51: spang, 44: "....x.......x..."})
    on_the_hats = song("Swing", (4, 4), {42: spang, 44: "....x.......x..."})
    waltz = song("JazzWaltz", (3, 4), {42: "x...x...x..."})
    assert with_drums_of_its_style(on_the_ride) is on_the_ride
    kept = with_drums_of_its_style(on_the_hats)
    assert "drums" not in kept.score.tracks and kept.score.tracks["bass"] == on_the_hats.score.tracks["bass"]
    assert "drums" in on_the_hats.score.tracks  # the cached piece is not changed
    assert "drums" not in with_drums_of_its_style(waltz).score.tracks  # jazz's signature is a 4/4 bar
    # folk's signature is a 3/4 bar (kick on 1, beats 2 and 3 answered), which a 4/4 bar can hold too
    four_four_folk = replace(song("FolkBallad", (4, 4), {36: "x...............", 38: "....x...x......."}), genre="folk")
    assert "drums" not in with_drums_of_its_style(four_four_folk).score.tracks
    three_four_folk = replace(song("Waltz", (3, 4), {36: "x...........", 38: "....x...x..."}), genre="folk")
    assert with_drums_of_its_style(three_four_folk) is three_four_folk
    chorale = CorpusPiece(on_the_hats.score, "orchestral", "calm", "bach/bwv1")
    assert with_drums_of_its_style(chorale) is chorale


def test_hit_points_get_a_crash_from_the_trained_engine():
    from mtm_daw.engine.generator import GenerationSettings, generate_score

    description = MusicDescription(genre="rock", key="E minor", tempo=120, duration=8.0,
                                   hit_points=[HitPoint(2.1), HitPoint(5.0)])
    score = generate_score(description, np.zeros(384, np.float32), settings=GenerationSettings(steps=2, seed=1))
    assert structure.hit_accent_share(score, description.hit_point_beats()) == 1.0
