"""Form and harmony: the Plan a cue is written to (sections, phrases, chords), made or heard.

chords: chord symbols and chords heard in notes; plan: the Plan and plan_from_score; form: the ties
the sampler uses to bring sections back. The planner (make_plan from a description) is mtm_daw.compose.planner.
"""
