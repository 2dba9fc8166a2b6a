#!/usr/bin/env bash
# Sets up mtm_daw on a Debian machine: the whole product a producer uses — the engine and `mtm`, the panel
# (PyQt6 and the system libraries Qt needs), the evaluation's plots, FluidSynth and a General MIDI
# SoundFont — in a virtual environment in .venv, and the DAW plugin (VST3 + LV2, built with DPF, installed in
# ~/.vst3 and ~/.lv2). One line per step; the last says what to run next.
#   bash scripts/setup.sh            # the product
#   bash scripts/setup.sh test       # the product + test tools (and training, which the tests exercise)
#   bash scripts/setup.sh train      # the product + training (torch, music21, mma)
#   bash scripts/setup.sh gpu        # the product with onnxruntime-gpu in place of onnxruntime (CUDA 12)
#   (groups combine: bash scripts/setup.sh test,gpu)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
gpu=""
case ",$extras," in  # not a pip extra: the two onnxruntime builds share one module and must never both be installed
    *,gpu,*) gpu=1; extras=$(echo ",$extras," | sed -e 's/,gpu,/,/' -e 's/^,//' -e 's/,$//') ;;
esac

# System packages: audio (FluidSynth + SoundFont); the panel's Qt needs GL, fonts, keyboard, D-Bus for every
# Qt platform, PulseAudio for QtMultimedia, xcb-cursor for desktop windows (offscreen needs all but the last).
apt_packages=(python3 python3-venv python3-dev libfluidsynth3 fluid-soundfont-gm
              libgl1 libegl1 libxkbcommon0 libfontconfig1 fonts-dejavu-core libglib2.0-0 libdbus-1-3 libpulse0
              libxcb-cursor0
              dpf-source g++ cmake)  # the DAW plugin's build
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
        echo "setup: system packages: installing ${missing[*]}"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
            || echo "setup: apt-get could not install ${missing[*]}; the built-in synthesiser covers a missing SoundFont." >&2
    fi
else
    echo "setup: system packages: all present"
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    echo "setup: virtual environment: created .venv"
else
    echo "setup: virtual environment: .venv"
fi
log=.venv/setup.log  # pip's full output, shown when a step fails
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip >"$log" 2>&1 || { cat "$log" >&2; exit 1; }

groups="ui,plots${extras:+,$extras}"
"${pip[@]}" install -e ".[$groups]" >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }
echo "setup: python packages: mtm_daw with $groups (log: $log)"
# onnxruntime and onnxruntime-gpu install the same module: exactly one of them, the one asked for. The
# product's dependency brings the CPU build back on every run, so the swap is redone each time, and
# reinstalled by force: uninstalling one build deletes the files the other shares.
if [ -n "$gpu" ]; then
    { "${pip[@]}" uninstall -y onnxruntime onnxruntime-gpu \
        && "${pip[@]}" install --force-reinstall --no-deps "onnxruntime-gpu>=1.21" \
        && "${pip[@]}" install "onnxruntime-gpu[cuda,cudnn]>=1.21"; } >>"$log" 2>&1 \
        || { cat "$log" >&2; echo "setup: GPU runtime: could not install onnxruntime-gpu" >&2; exit 1; }
    runtime=$(.venv/bin/python -c "from mtm_daw.engine.generator import Generator
from mtm_daw.engine.sessions import running_provider
print(running_provider(Generator.default().session))" 2>/dev/null || echo "unknown (see .venv/bin/mtm doctor)")
    echo "setup: GPU runtime: onnxruntime-gpu in place of onnxruntime; the generator runs on $runtime"
elif "${pip[@]}" show onnxruntime-gpu >/dev/null 2>&1; then  # a venv set up with gpu before
    { "${pip[@]}" uninstall -y onnxruntime onnxruntime-gpu \
        && "${pip[@]}" install --force-reinstall --no-deps "onnxruntime>=1.17"; } >>"$log" 2>&1 \
        || { cat "$log" >&2; exit 1; }
    echo "setup: onnx runtime: onnxruntime-gpu replaced by onnxruntime (the CPU build; bash scripts/setup.sh gpu keeps the GPU one)"
fi
# librosa's numba functions compile on a fresh install's first audio analysis (25 s on 2 cores; numba keeps them
# beside librosa after): built once here, so describing or importing a first sound takes seconds
.venv/bin/python -c "from mtm_daw.analysis import build_numba_cache; build_numba_cache()" >>"$log" 2>&1 \
    || echo "setup: note: librosa's functions were not built ahead; the first audio analysis will take ~25 s" >&2
# The DAW plugin: a thin C++ shell (plugin_shell/) that asks `mtm serve` for cues; it starts this venv's mtm.
plugin_log=.venv/plugin-build.log
if cmake -S plugin_shell -B build/plugin -DCMAKE_BUILD_TYPE=Release -DMTM_PYTHON="$PWD/.venv/bin/python" \
        -DMTM_ENGINE="$PWD/.venv/bin/mtm" >"$plugin_log" 2>&1 && cmake --build build/plugin -j2 >>"$plugin_log" 2>&1; then
    mkdir -p "$HOME/.vst3" "$HOME/.lv2"
    for bundle in mtm_daw.vst3:"$HOME/.vst3" mtm_daw.lv2:"$HOME/.lv2"; do
        rm -rf "${bundle#*:}/${bundle%%:*}"
        cp -r "build/plugin/bin/${bundle%%:*}" "${bundle#*:}/"
    done
    echo "setup: DAW plugin: built and installed $HOME/.vst3/mtm_daw.vst3 and $HOME/.lv2/mtm_daw.lv2"
else
    echo "setup: DAW plugin: the build failed (log: $plugin_log); everything else works without it" >&2
fi
soundfont=$(.venv/bin/python -c "from mtm_daw.render.soundfont import find_soundfont; print(find_soundfont() or 'none (built-in synthesiser)')")
echo "setup: ready — engine, panel, plots; SoundFont: $soundfont. Next: .venv/bin/mtm ui  (or .venv/bin/mtm score VIDEO -o out/, .venv/bin/mtm doctor)"
