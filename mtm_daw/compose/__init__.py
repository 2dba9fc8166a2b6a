"""A description made into music: the planner writes its Plan (form, phrases, chords, dynamics), the
baseline composer a Score that follows it.

planner: make_plan; baseline: compose (the procedural composer); dynamics: velocities from the plan.
"""
