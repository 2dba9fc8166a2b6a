#include "WavReader.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>

namespace {

uint32_t u32(const unsigned char* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
uint16_t u16(const unsigned char* p) { return uint16_t(p[0] | p[1] << 8); }

float sampleAt(const unsigned char* p, int bits, bool isFloat) {
    if (isFloat) {
        float value;
        std::memcpy(&value, p, 4);
        return value;
    }
    switch (bits) {
    case 16: return float(int16_t(u16(p))) / 32768.0f;
    case 24: return float(int32_t(uint32_t(p[0]) << 8 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 24) >> 8) / 8388608.0f;
    default: return float(double(int32_t(u32(p))) / 2147483648.0);
    }
}

}  // namespace

bool readWav(const std::string& path, StereoAudio& audio, std::string& error, size_t maxFrames) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        error = path + ": cannot open the cue's audio (deleted or moved?)";
        return false;
    }
    unsigned char header[12];
    if (!file.read(reinterpret_cast<char*>(header), 12) || std::memcmp(header, "RIFF", 4) || std::memcmp(header + 8, "WAVE", 4)) {
        error = path + ": not a WAV file";
        return false;
    }
    int channels = 0, bits = 0, format = 0;
    uint32_t rate = 0;
    while (true) {
        unsigned char chunk[8];
        if (!file.read(reinterpret_cast<char*>(chunk), 8)) {
            error = path + ": no audio data in the WAV file";
            return false;
        }
        const uint32_t size = u32(chunk + 4);
        if (!std::memcmp(chunk, "fmt ", 4)) {
            unsigned char fmt[40] = {};
            if (size < 16 || !file.read(reinterpret_cast<char*>(fmt), std::min<uint32_t>(size, 40))) {
                error = path + ": a broken WAV format chunk";
                return false;
            }
            format = u16(fmt);
            if (format == 0xFFFE && size >= 26) format = u16(fmt + 24);  // WAVE_FORMAT_EXTENSIBLE: its sub-format
            channels = u16(fmt + 2);
            rate = u32(fmt + 4);
            bits = u16(fmt + 14);
            file.seekg(std::streamoff(size) - std::min<uint32_t>(size, 40) + (size & 1), std::ios::cur);
        } else if (!std::memcmp(chunk, "data", 4)) {
            const bool isFloat = format == 3 && bits == 32;
            if (!(isFloat || (format == 1 && (bits == 16 || bits == 24 || bits == 32))) || channels < 1 || channels > 2 || rate == 0) {
                error = path + ": unsupported WAV (format " + std::to_string(format) + ", " + std::to_string(bits) +
                        " bit, " + std::to_string(channels) + " channels)";
                return false;
            }
            const size_t frameBytes = size_t(channels) * size_t(bits / 8);
            const size_t frames = size / frameBytes;
            if (frames > maxFrames) {
                error = path + ": the cue is longer than the plugin plays (" + std::to_string(maxFrames) + " frames)";
                return false;
            }
            std::vector<unsigned char> data(frames * frameBytes);
            if (!file.read(reinterpret_cast<char*>(data.data()), std::streamsize(data.size()))) {
                error = path + ": the WAV file is cut short";
                return false;
            }
            audio.sampleRate = rate;
            audio.left.resize(frames);
            audio.right.resize(frames);
            const size_t bytes = size_t(bits / 8);
            for (size_t i = 0; i < frames; ++i) {
                const unsigned char* frame = data.data() + i * frameBytes;
                audio.left[i] = sampleAt(frame, bits, isFloat);
                audio.right[i] = channels == 2 ? sampleAt(frame + bytes, bits, isFloat) : audio.left[i];
            }
            return true;
        } else {
            file.seekg(std::streamoff(size) + (size & 1), std::ios::cur);
        }
    }
}
