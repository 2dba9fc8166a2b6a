// What the plugin is, for DPF: an instrument with a stereo mix and four stereo stem outputs, MIDI out,
// the host's time position, and its cue kept in the session's state. No GUI: the PyQt6 panel edits.
#pragma once

#define DISTRHO_PLUGIN_BRAND "mtm_daw"
#define DISTRHO_PLUGIN_NAME "mtm_daw"
#define DISTRHO_PLUGIN_URI "urn:mtm-daw:cue-player"
#define DISTRHO_PLUGIN_CLAP_ID "org.mtm-daw.cue-player"
#define DISTRHO_PLUGIN_BRAND_ID Mtmd
#define DISTRHO_PLUGIN_UNIQUE_ID Mtmc

#define DISTRHO_PLUGIN_HAS_UI 0
#define DISTRHO_PLUGIN_IS_SYNTH 1
#define DISTRHO_PLUGIN_IS_RT_SAFE 1
#define DISTRHO_PLUGIN_NUM_INPUTS 0
#define DISTRHO_PLUGIN_NUM_OUTPUTS 10
#define DISTRHO_PLUGIN_WANT_MIDI_INPUT 1
#define DISTRHO_PLUGIN_WANT_MIDI_OUTPUT 1
#define DISTRHO_PLUGIN_WANT_TIMEPOS 1
#define DISTRHO_PLUGIN_WANT_STATE 1
#define DISTRHO_PLUGIN_WANT_FULL_STATE 1
#define DISTRHO_PLUGIN_VST3_CATEGORIES "Instrument|Generator"
#define DISTRHO_PLUGIN_LV2_CATEGORY "lv2:GeneratorPlugin"
