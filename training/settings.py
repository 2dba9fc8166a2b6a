"""Training scripts' settings: a dict of defaults, each overridable on the command line as --name value."""
from __future__ import annotations

import argparse


def parse_settings(defaults: dict, description: str | None, argv: list[str] | None = None) -> dict:
    """{name: value} from `defaults`, with --some-name VALUE (or --flag for booleans) overriding each."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in defaults.items():
        if isinstance(default, bool):
            parser.add_argument(f"--{name.replace('_', '-')}", action="store_true", default=default)
        else:
            parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    return vars(parser.parse_args(argv))
