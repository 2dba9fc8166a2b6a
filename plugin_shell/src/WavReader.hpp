// Reads the engine's WAV files (PCM 16/24/32-bit or 32-bit float, mono or stereo) into two float channels.
#pragma once

#include <string>
#include <vector>

struct StereoAudio {
    double sampleRate = 0.0;
    std::vector<float> left, right;
};

// False with `error` naming the file and what is wrong. Files over `maxFrames` frames are refused.
bool readWav(const std::string& path, StereoAudio& audio, std::string& error, size_t maxFrames);
