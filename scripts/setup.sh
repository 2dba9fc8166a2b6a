#!/usr/bin/env bash
# Sets up mtm_daw on a Debian machine: system audio pieces (FluidSynth, a General MIDI
# SoundFont) and a virtual environment in .venv with the package installed.
#   bash scripts/setup.sh            # runtime
#   bash scripts/setup.sh test       # runtime + test tools
#   bash scripts/setup.sh train      # runtime + training (torch, music21, mma)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

apt_packages=(python3 python3-venv python3-dev libfluidsynth3 fluid-soundfont-gm)
case "$extras" in  # the panel (PyQt6): GL, fonts, keyboard, D-Bus for every Qt platform, PulseAudio for
    *ui*|*test*)   # QtMultimedia, xcb-cursor for desktop windows (offscreen needs all but the last)
        apt_packages+=(libgl1 libegl1 libxkbcommon0 libfontconfig1 fonts-dejavu-core libglib2.0-0 libdbus-1-3
                       libpulse0 libxcb-cursor0) ;;
esac
case "$extras" in  # training data: Debian's mma renders human-written grooves under folk tunes
    *train*|*test*) apt_packages+=(mma) ;;
esac
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo="none"; fi
    if [ "$sudo" = "none" ]; then
        echo "setup: cannot install ${missing[*]} (not root, no sudo); continuing, the built-in synthesiser covers a missing SoundFont." >&2
    else
        echo "setup: installing system packages: ${missing[*]}"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
            || echo "setup: apt-get could not install ${missing[*]}; the built-in synthesiser covers a missing SoundFont." >&2
    fi
fi

python=python3
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ -n "$extras" ]; then
    .venv/bin/python -m pip install -q -e ".[$extras]"
else
    .venv/bin/python -m pip install -q -e .
fi
echo "setup: ready (.venv)"
