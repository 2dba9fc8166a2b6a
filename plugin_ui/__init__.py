"""plugin_ui: the PyQt6 panel (`mtm-panel`, `mtm ui`).

Layout: app.py (entry point), main_window.py (the window), widgets/ (one module per part),
workers.py (jobs and the engine process client), host.py + backend.py (the engine process and the
jobs it runs, no Qt), library_adapter.py (the music library's glue), playback.py, settings.py,
settings_dialog.py, theme.py.
"""
