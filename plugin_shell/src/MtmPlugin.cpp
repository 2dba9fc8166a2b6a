// The mtm_daw plugin: asks `mtm serve` for a cue at the host's tempo and meter, and plays its stems and
// notes locked to the host's timeline from a start bar.
//
// Threads: the host's audio thread runs run(); a worker thread of our own talks to the engine and reads
// the cue's files. A finished cue is handed to the audio thread by an atomic pointer swap (fPending); the
// audio thread hands the cue it replaced back the same way (fRetired) for the worker to free. The audio
// thread never allocates, locks, waits, or touches a file or socket.
#include "DistrhoPlugin.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "EngineClient.hpp"
#include "Json.hpp"
#include "MtmChoices.hpp"
#include "WavReader.hpp"

START_NAMESPACE_DISTRHO

namespace {

enum Parameters {
    kGenerate, kStyle, kMood, kBars, kSeed, kStrength, kKey, kKeyLock, kStartBar,
    kMuteDrums, kMuteBass, kMuteHarmony, kMuteMelody, kEngine, kOpenPanel, kStatus, kProgress, kWorstLoad, kParameterCount
};

enum Status { kStatusNoCue, kStatusGenerating, kStatusReady, kStatusStale, kStatusEngineStopped, kStatusError };
const char* const kStatusNames[] = {"no cue", "generating", "ready", "stale: not at the host's tempo",
                                    "engine stopped", "error"};

const char* const kStemRoles[] = {"drums", "bass", "harmony", "melody"};
constexpr int kStems = 4;
constexpr int kOutputsPerPart = 2;  // stereo: the mix first, then each stem
constexpr size_t kMaxCueFrames = size_t(192000) * 60 * 12;  // the engine's cues are at most 10 minutes
constexpr double kPollSeconds = 0.25;
constexpr double kStaleSeconds = 0.5;  // a tempo change settles this long before a new cue is asked for

double nowSeconds() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

struct NoteEvent {
    int64_t frame;  // from the cue's first sample
    uint8_t status, data1, data2;
};

// A cue as the audio thread plays it: made and freed by the worker thread only.
struct Cue {
    double tempo = 120.0;
    int numerator = 4, denominator = 4;
    double sampleRate = 48000.0;
    int64_t frames = 0;
    StereoAudio mix;
    StereoAudio stems[kStems];
    bool hasStem[kStems] = {};
    std::vector<NoteEvent> events;  // sorted by frame, note-offs before note-ons at one frame
    std::string sidecar, sha256;

    double quartersPerBar() const { return numerator * 4.0 / denominator; }
};

std::string makeInstanceId() {
    std::random_device random;
    char id[32];
    std::snprintf(id, sizeof id, "%08x%08x", random(), random());
    return id;
}

bool sameTempoAndMeter(const TimePosition& time, const Cue& cue) {
    if (!time.bbt.valid) return true;  // the host says nothing: play at the cue's tempo
    return std::fabs(time.bbt.beatsPerMinute - cue.tempo) < 0.01 && std::lround(time.bbt.beatsPerBar) == cue.numerator &&
           std::lround(time.bbt.beatType) == cue.denominator;
}

}  // namespace

class MtmPlugin : public Plugin {
public:
    MtmPlugin() : Plugin(kParameterCount, 0, 2) {
        const float defaults[kParameterCount] = {0, 0, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, float(kEngineNamesCount - 1), 0, 0, 0, 0};
        for (int i = 0; i < kParameterCount; ++i) fValues[i].store(defaults[i]);
        fSampleRate.store(getSampleRate());
        if (!isDummyInstance()) fWorker = std::thread([this] { work(); });
    }

    ~MtmPlugin() override {
        fQuit.store(true);
        if (fWorker.joinable()) fWorker.join();
        delete fPending.exchange(nullptr);
        delete fRetired.exchange(nullptr);
        delete fActive;
    }

protected:
    const char* getLabel() const override { return "mtm_daw"; }
    const char* getDescription() const override {
        return "Generates a multi-stem cue at the host's tempo with the local mtm engine and plays it in sync.";
    }
    const char* getMaker() const override { return "mtm_daw"; }
    const char* getLicense() const override { return "ISC"; }
    uint32_t getVersion() const override { return d_version(0, 1, 0); }
    int64_t getUniqueId() const override { return d_cconst('M', 't', 'm', 'c'); }

    void initAudioPort(bool input, uint32_t index, AudioPort& port) override {
        if (input) return Plugin::initAudioPort(input, index, port);
        const uint32_t part = index / kOutputsPerPart;
        const bool left = index % kOutputsPerPart == 0;
        const String name = part == 0 ? String("Mix") : String(kStemRoles[part - 1]);
        port.name = name + (left ? " L" : " R");
        port.symbol = String(part == 0 ? "mix" : kStemRoles[part - 1]) + (left ? "_l" : "_r");
        // No port groups: one 10-channel output bus, which hosts open whole (grouped, DPF makes the stems
        // auxiliary buses that hosts such as JUCE's leave switched off).
    }

    void initParameter(uint32_t index, Parameter& p) override {
        auto choices = [&p](const char* const* names, int count) {
            p.hints |= kParameterIsInteger;
            p.ranges.min = 0;
            p.ranges.max = float(count - 1);
            p.enumValues.count = uint32_t(count);
            p.enumValues.restrictedMode = true;
            ParameterEnumerationValue* values = new ParameterEnumerationValue[count];
            for (int i = 0; i < count; ++i) values[i] = ParameterEnumerationValue(float(i), names[i]);
            p.enumValues.values = values;
        };
        p.hints = kParameterIsAutomatable;
        switch (index) {
        // A switch, not a trigger (DPF's VST3 side never passes a host's trigger on): on = generate.
        case kGenerate: p.hints |= kParameterIsBoolean | kParameterIsInteger; p.name = "Generate"; p.symbol = "generate"; p.ranges = {0, 0, 1}; return;
        case kStyle: p.name = "Style"; p.symbol = "style"; choices(kStyleNames, kStyleNamesCount); break;
        case kMood: p.name = "Mood"; p.symbol = "mood"; choices(kMoodNames, kMoodNamesCount); break;
        case kBars: p.hints |= kParameterIsInteger; p.name = "Bars"; p.symbol = "bars"; p.ranges = {8, 1, 128}; return;
        case kSeed: p.hints |= kParameterIsInteger; p.name = "Seed"; p.symbol = "seed"; p.ranges = {0, 0, 9999}; return;
        case kStrength: p.name = "Reference strength"; p.symbol = "strength"; p.ranges = {0, 0, 1}; return;
        case kKey: p.name = "Key"; p.symbol = "key"; choices(kKeyNames, kKeyNamesCount); break;
        case kKeyLock: p.hints |= kParameterIsBoolean | kParameterIsInteger; p.name = "Key lock"; p.symbol = "key_lock"; p.ranges = {1, 0, 1}; return;
        case kStartBar: p.hints |= kParameterIsInteger; p.name = "Start bar"; p.symbol = "start_bar"; p.ranges = {1, 1, 999}; return;
        case kMuteDrums: case kMuteBass: case kMuteHarmony: case kMuteMelody:
            p.hints |= kParameterIsBoolean | kParameterIsInteger;
            p.name = String("Mute ") + kStemRoles[index - kMuteDrums];
            p.symbol = String("mute_") + kStemRoles[index - kMuteDrums];
            p.ranges = {0, 0, 1};
            return;
        case kEngine: p.name = "Engine"; p.symbol = "engine"; choices(kEngineNames, kEngineNamesCount); break;
        case kOpenPanel: p.hints |= kParameterIsBoolean | kParameterIsInteger; p.name = "Open panel"; p.symbol = "open_panel";
            p.ranges = {0, 0, 1}; return;
        case kStatus: p.hints = kParameterIsOutput | kParameterIsInteger; p.name = "Status"; p.symbol = "status";
            choices(kStatusNames, int(sizeof kStatusNames / sizeof *kStatusNames)); break;
        case kProgress: p.hints = kParameterIsOutput; p.name = "Progress"; p.symbol = "progress"; p.ranges = {0, 0, 1}; return;
        case kWorstLoad: p.hints = kParameterIsOutput; p.name = "Worst block load"; p.symbol = "worst_load";
            p.unit = "x block"; p.ranges = {0, 0, 100}; return;
        }
        p.ranges.def = fValues[index].load();
    }

    float getParameterValue(uint32_t index) const override {
        if (index == kStatus) return float(fStatus.load());
        if (index == kProgress) return fProgress.load();
        if (index == kWorstLoad) return fWorstLoad.load();
        return index < kParameterCount ? fValues[index].load() : 0.0f;
    }

    void setParameterValue(uint32_t index, float value) override {
        if (index >= kParameterCount || index == kStatus || index == kProgress || index == kWorstLoad) return;
        const bool switchedOn = value > 0.5f && fValues[index].load() <= 0.5f;
        if (index == kGenerate && switchedOn) fGenerateRequested.store(true);
        if (index == kOpenPanel && switchedOn) fOpenPanelRequested.store(true);
        fValues[index].store(value);
    }

    void initState(uint32_t index, State& state) override {
        state.hints = kStateIsHostReadable | kStateIsOnlyForDSP;
        state.key = index == 0 ? "sidecar" : "sha256";
        state.label = index == 0 ? "Cue sidecar" : "Cue sidecar SHA-256";
        state.defaultValue = "";
    }

    String getState(const char* key) const override {
        std::lock_guard<std::mutex> lock(fStateMutex);
        return String(std::strcmp(key, "sidecar") == 0 ? fSidecar.c_str() : fSha256.c_str());
    }

    void setState(const char* key, const char* value) override {
        std::lock_guard<std::mutex> lock(fStateMutex);
        if (std::strcmp(key, "sidecar") == 0) {
            if (fSidecar == value) return;
            fSidecar = value;
            if (*value) fLoadRequested.store(true);
        } else {
            fSha256 = value;
        }
    }

    void sampleRateChanged(double newSampleRate) override { fSampleRate.store(newSampleRate); }

    void run(const float**, float** outputs, uint32_t frames, const MidiEvent*, uint32_t) override {
        const auto started = std::chrono::steady_clock::now();
        play(outputs, frames);
        // the longest run() so far as a share of the block's duration (the benchmark reads it)
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const float load = float(seconds * getSampleRate() / std::max<uint32_t>(frames, 1));
        if (load > fWorstLoad.load()) fWorstLoad.store(load);
    }

private:
    // --- audio thread ---------------------------------------------------------------------------------
    void play(float** outputs, uint32_t frames) {
        for (int channel = 0; channel < DISTRHO_PLUGIN_NUM_OUTPUTS; ++channel)
            std::fill(outputs[channel], outputs[channel] + frames, 0.0f);
        takeNewCue();
        const TimePosition& time = getTimePosition();
        if (time.bbt.valid) {
            fHostTempo.store(time.bbt.beatsPerMinute);
            fHostNumerator.store(int(std::lround(time.bbt.beatsPerBar)));
            fHostDenominator.store(int(std::lround(time.bbt.beatType)));
        }
        fHostTimeKnown.store(time.bbt.valid);
        const Cue* cue = fActive;
        if (cue == nullptr) return;
        const bool fits = sameTempoAndMeter(time, *cue) && std::fabs(cue->sampleRate - getSampleRate()) < 0.5;
        fCueFitsHost.store(fits);
        if (!fits || !time.playing) {
            stopNotes();
            return;
        }
        const double framesPerBar = cue->quartersPerBar() * 60.0 / cue->tempo * cue->sampleRate;
        const int64_t startFrame = std::llround((fValues[kStartBar].load() - 1.0) * framesPerBar);
        const int64_t first = int64_t(time.frame) - startFrame;  // the cue's frame at this block's start
        if (first != fExpectedFrame) stopNotes();  // the host jumped or looped: no note hangs
        fExpectedFrame = first + int64_t(frames);
        playAudio(*cue, first, frames, outputs);
        sendNotes(*cue, first, frames);
    }

    void takeNewCue() {
        if (fRetired.load() != nullptr) return;  // the worker has not freed the last one yet
        Cue* incoming = fPending.exchange(nullptr);
        if (incoming == nullptr) return;
        stopNotes();
        fRetired.store(fActive);
        fActive = incoming;
        fExpectedFrame = INT64_MIN;
    }

    void playAudio(const Cue& cue, int64_t first, uint32_t frames, float** outputs) const {
        const int64_t begin = std::max<int64_t>(first, 0), end = std::min<int64_t>(first + frames, cue.frames);
        if (begin >= end) return;
        const uint32_t offset = uint32_t(begin - first);
        const size_t count = size_t(end - begin);
        bool anyMuted = false;
        for (int s = 0; s < kStems; ++s) {
            const bool muted = fValues[kMuteDrums + s].load() > 0.5f;
            anyMuted = anyMuted || muted;
            if (muted || !cue.hasStem[s]) continue;
            std::copy_n(cue.stems[s].left.data() + begin, count, outputs[kOutputsPerPart * (s + 1)] + offset);
            std::copy_n(cue.stems[s].right.data() + begin, count, outputs[kOutputsPerPart * (s + 1) + 1] + offset);
        }
        if (!anyMuted) {  // the engine's mastered mix; with a stem muted, the sum of the others
            std::copy_n(cue.mix.left.data() + begin, count, outputs[0] + offset);
            std::copy_n(cue.mix.right.data() + begin, count, outputs[1] + offset);
            return;
        }
        for (int s = 0; s < kStems; ++s)
            for (int side = 0; side < kOutputsPerPart; ++side)
                for (size_t i = 0; i < count; ++i)
                    outputs[side][offset + i] += outputs[kOutputsPerPart * (s + 1) + side][offset + i];
    }

    void sendNotes(const Cue& cue, int64_t first, uint32_t frames) {
        auto at = std::lower_bound(cue.events.begin(), cue.events.end(), first,
                                   [](const NoteEvent& event, int64_t frame) { return event.frame < frame; });
        for (; at != cue.events.end() && at->frame < first + int64_t(frames); ++at) {
            MidiEvent event{};
            event.frame = uint32_t(at->frame - first);
            event.size = 3;
            event.data[0] = at->status;
            event.data[1] = at->data1;
            event.data[2] = at->data2;
            if (!writeMidiEvent(event)) break;  // the host's MIDI buffer is full
            fNotesSounding = true;
        }
    }

    void stopNotes() {
        fExpectedFrame = INT64_MIN;
        if (!fNotesSounding) return;
        fNotesSounding = false;
        for (uint8_t channel = 0; channel < 16; ++channel) {
            MidiEvent event{};
            event.size = 3;
            event.data[0] = uint8_t(0xB0 | channel);
            event.data[1] = 123;  // all notes off
            writeMidiEvent(event);
        }
    }

    // --- worker thread --------------------------------------------------------------------------------
    void work() {
        double nextTry = 0.0, nextPoll = 0.0, nextHello = 0.0, staleSince = -1.0;
        while (!fQuit.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            delete fRetired.exchange(nullptr);
            const double now = nowSeconds();
            if (fOpenPanelRequested.exchange(false)) fEngine.openPanel(fInstance);
            if (now >= nextHello) {
                nextHello = now + 1.0;
                hello();
            }
            if (fGenerateRequested.exchange(false)) {
                fFollowHostTempo = true;
                fWantedRequest = requestJson();
                fWantLoad = false;
                fJob.clear();
                nextTry = 0.0;
            }
            if (fLoadRequested.exchange(false)) {
                fWantLoad = true;
                fWantedRequest.clear();
                fJob.clear();
                nextTry = 0.0;
            }
            // A cue at another tempo, meter or sample rate than the host's is never played: ask again.
            if (fHasCue && !fCueFitsHost.load() && fWantedRequest.empty() && fJob.empty() && !fWantLoad) {
                if (staleSince < 0) staleSince = now;
                fStatus.store(kStatusStale);
                if (fFollowHostTempo && now - staleSince > kStaleSeconds) {
                    fWantedRequest = requestJson();
                    nextTry = 0.0;
                }
            } else if (fCueFitsHost.load()) {
                staleSince = -1.0;
            }
            if ((fWantLoad || !fWantedRequest.empty()) && fJob.empty() && now >= nextTry) {
                nextTry = now + 0.5;
                fWantLoad ? loadSavedCue() : submit();
            }
            if (!fJob.empty() && now >= nextPoll) {
                nextPoll = now + kPollSeconds;
                poll();
            }
        }
    }

    // Tells the engine this instance is alive (the panel lists it under "Send to plugin") and takes a cue the
    // panel sent. A sent cue keeps its own tempo: at another one it is marked stale, never remade.
    void hello() {
        Json answer;
        std::string error;
        bool down = false;
        if (!fEngine.ask("{\"command\":\"hello\",\"instance\":" + jsonQuote(fInstance) + "," + hostFields() + "}", answer,
                         error, down))
            return;  // no engine: nothing to hear from the panel
        const std::string sent = answer.str("inbox");
        if (sent.empty()) return;
        {
            std::lock_guard<std::mutex> lock(fStateMutex);
            fSidecar = sent;
        }
        fFollowHostTempo = false;
        fWantLoad = true;
        fWantedRequest.clear();
        fJob.clear();
        note("cue sent from the panel: " + sent);
    }

    // The host's tempo, meter and sample rate as JSON fields (120 BPM in 4/4 when the host gives no time).
    std::string hostFields() const {
        const bool known = fHostTimeKnown.load();
        char fields[160];
        std::snprintf(fields, sizeof fields, "\"tempo\":%.6f,\"numerator\":%d,\"denominator\":%d,\"sample_rate\":%d",
                      known ? fHostTempo.load() : 120.0, known ? fHostNumerator.load() : 4,
                      known ? fHostDenominator.load() : 4, int(std::lround(fSampleRate.load())));
        return fields;
    }

    std::string requestJson() const {
        auto choice = [this](int index, const char* const* names, int count) {
            return jsonQuote(names[std::clamp(int(std::lround(fValues[index].load())), 0, count - 1)]);
        };
        const int key = std::clamp(int(std::lround(fValues[kKey].load())), 0, kKeyNamesCount - 1);
        char numbers[160];
        std::snprintf(numbers, sizeof numbers, "\"bars\":%d,\"seed\":%d,\"strength\":%.4f,\"key_lock\":%s",
                      int(std::lround(fValues[kBars].load())), int(std::lround(fValues[kSeed].load())),
                      double(fValues[kStrength].load()), fValues[kKeyLock].load() > 0.5f ? "true" : "false");
        return std::string("{\"command\":\"generate\",") + hostFields() + "," + numbers + ",\"style\":" +
               choice(kStyle, kStyleNames, kStyleNamesCount) + ",\"mood\":" + choice(kMood, kMoodNames, kMoodNamesCount) +
               ",\"key\":" + jsonQuote(key == 0 ? "" : kKeyNames[key]) + ",\"engine\":" +
               choice(kEngine, kEngineNames, kEngineNamesCount) + "}";
    }

    // Sends fWantedRequest; an engine that does not answer is started and asked again on the next try.
    void submit() {
        if (fHasCue && fPublishedRequest == fWantedRequest && fCueFitsHost.load()) {
            fWantedRequest.clear();  // already playing exactly this cue
            fStatus.store(kStatusReady);
            return;
        }
        Json answer;
        std::string error;
        bool down = false;
        if (!fEngine.ask(fWantedRequest, answer, error, down)) {
            if (down) {
                fStatus.store(kStatusEngineStopped);
                fEngine.startEngine();
                note("engine stopped; starting it");
            } else {
                fWantedRequest.clear();
                fail(error);
            }
            return;
        }
        fJob = answer.str("job");
        fJobPreviewSeen = false;
        fJobRequest = fWantedRequest;
        fWantedRequest.clear();
        fStatus.store(kStatusGenerating);
        fProgress.store(0.0f);
    }

    void poll() {
        Json answer;
        std::string error;
        bool down = false;
        if (!fEngine.ask("{\"command\":\"job\",\"job\":" + jsonQuote(fJob) + "}", answer, error, down)) {
            fJob.clear();
            if (down) {  // the engine died while making it: start one and ask again
                fWantedRequest = fJobRequest;
                fStatus.store(kStatusEngineStopped);
                fEngine.startEngine();
            } else {
                fWantedRequest = fJobRequest;  // e.g. a restarted engine that does not know the job
            }
            return;
        }
        const std::string state = answer.str("state");
        fProgress.store(float(answer.num("progress")));
        if (state == "done") {
            fJob.clear();
            publish(answer["cue"], fJobRequest);
        } else if (state == "running" && !fJobPreviewSeen && answer["preview"].type == Json::Object &&
                   (!fHasCue || fPlayingPreview || !fCueFitsHost.load())) {
            // its first bars, heard while the rest is made, where nothing else would sound (a first cue, the last
            // one at an old tempo, or an earlier request's preview): a whole cue that still fits plays on
            fJobPreviewSeen = true;
            publishPreview(answer["preview"]);
        } else if (state == "failed" || state == "cancelled") {
            fJob.clear();
            fail(answer.str("error_message", "the engine could not make the cue"));
        }
    }

    void loadSavedCue() {
        std::string sidecar;
        {
            std::lock_guard<std::mutex> lock(fStateMutex);
            sidecar = fSidecar;
        }
        Json answer;
        std::string error;
        bool down = false;
        if (!fEngine.ask("{\"command\":\"load\",\"sidecar\":" + jsonQuote(sidecar) + "}", answer, error, down)) {
            if (down) {
                fStatus.store(kStatusEngineStopped);
                fEngine.startEngine();
            } else {
                fWantLoad = false;
                fail(error);
            }
            return;
        }
        fWantLoad = false;
        publish(answer["cue"], "");
    }

    void publish(const Json& files, const std::string& request) {
        std::unique_ptr<Cue> cue(new Cue());
        std::string error;
        if (!readCue(files, *cue, error)) return fail(error);
        fPublishedRequest = request;
        fHasCue = true;
        fPlayingPreview = false;
        {
            std::lock_guard<std::mutex> lock(fStateMutex);
            fSidecar = cue->sidecar;
            fSha256 = cue->sha256;
        }
        delete fPending.exchange(cue.release());  // one the audio thread never took is ours to free
        fStatus.store(kStatusReady);
        fProgress.store(1.0f);
        note("cue ready");
    }

    // The first bars of the cue being made: played as the cue is (from Start bar, at the host's position) while
    // the status stays "generating"; never saved with the project (the sidecar kept is the last whole cue's).
    void publishPreview(const Json& files) {
        std::unique_ptr<Cue> cue(new Cue());
        std::string error;
        if (!readCue(files, *cue, error)) {
            note("preview not played: " + error);  // the whole cue still comes
            return;
        }
        fHasCue = true;
        fPlayingPreview = true;
        fPublishedRequest.clear();  // not the cue asked for: the same request is not "already playing"
        delete fPending.exchange(cue.release());
        note("playing the first bars while the rest is made");
    }

    // The preview of a cue that will not come: silence (an empty cue), as before it was asked for.
    void dropPreview() {
        delete fPending.exchange(new Cue());
        fHasCue = false;
        fPlayingPreview = false;
    }

    bool readCue(const Json& files, Cue& cue, std::string& error) const {
        cue.tempo = files.num("tempo");
        cue.numerator = int(files.num("numerator"));
        cue.denominator = int(files.num("denominator"));
        cue.sampleRate = files.num("sample_rate");
        cue.sidecar = files.str("sidecar");
        cue.sha256 = files.str("sidecar_sha256");
        if (!(cue.tempo > 0) || cue.numerator < 1 || cue.denominator < 1 || !(cue.sampleRate > 0)) {
            error = "the engine's answer has no tempo, meter or sample rate";
            return false;
        }
        if (!readWav(files.str("mix"), cue.mix, error, kMaxCueFrames)) return false;
        cue.frames = int64_t(cue.mix.left.size());
        for (int s = 0; s < kStems; ++s) {
            const std::string path = files["stems"].str(kStemRoles[s]);
            if (path.empty()) continue;  // a cue without this part
            if (!readWav(path, cue.stems[s], error, kMaxCueFrames)) return false;
            if (int64_t(cue.stems[s].left.size()) != cue.frames || cue.stems[s].sampleRate != cue.mix.sampleRate) {
                error = path + ": the stem's length or sample rate differs from the mix";
                return false;
            }
            cue.hasStem[s] = true;
        }
        const std::vector<Json>& numbers = files["notes"].items;
        const double framesPerBeat = 60.0 / cue.tempo * cue.sampleRate;
        for (size_t i = 0; i + 4 < numbers.size(); i += 5) {
            const uint8_t channel = uint8_t(int(numbers[i + 2].number) & 15), pitch = uint8_t(int(numbers[i + 3].number) & 127);
            const uint8_t velocity = uint8_t(std::clamp(int(numbers[i + 4].number), 1, 127));
            const int64_t on = std::llround(numbers[i].number * framesPerBeat);
            const int64_t off = std::max(on + 1, int64_t(std::llround(numbers[i + 1].number * framesPerBeat)));
            cue.events.push_back({on, uint8_t(0x90 | channel), pitch, velocity});
            cue.events.push_back({off, uint8_t(0x80 | channel), pitch, 0});
        }
        std::stable_sort(cue.events.begin(), cue.events.end(), [](const NoteEvent& a, const NoteEvent& b) {
            return a.frame != b.frame ? a.frame < b.frame : (a.status & 0xF0) < (b.status & 0xF0);
        });
        return true;
    }

    void fail(const std::string& message) {
        if (fPlayingPreview) dropPreview();  // the first bars of a cue that will not come
        fStatus.store(kStatusError);
        note(message);
    }

    void note(const std::string& message) const { std::fprintf(stderr, "mtm_daw plugin: %s\n", message.c_str()); }

    // set by the host, read by both threads
    std::atomic<float> fValues[kParameterCount];
    std::atomic<double> fSampleRate{48000.0};
    std::atomic<bool> fGenerateRequested{false}, fOpenPanelRequested{false}, fLoadRequested{false}, fQuit{false};
    // written by the audio thread, read by the worker
    std::atomic<double> fHostTempo{120.0};
    std::atomic<int> fHostNumerator{4}, fHostDenominator{4};
    std::atomic<bool> fHostTimeKnown{false}, fCueFitsHost{true};
    // written by the worker, read by the host
    std::atomic<int> fStatus{kStatusNoCue};
    std::atomic<float> fProgress{0.0f}, fWorstLoad{0.0f};
    mutable std::mutex fStateMutex;  // never taken on the audio thread
    std::string fSidecar, fSha256;
    // the hand-over between the threads
    std::atomic<Cue*> fPending{nullptr}, fRetired{nullptr};
    // audio thread only
    Cue* fActive = nullptr;
    int64_t fExpectedFrame = INT64_MIN;
    bool fNotesSounding = false;
    // worker thread only
    EngineClient fEngine;
    std::string fWantedRequest, fJob, fJobRequest, fPublishedRequest;
    std::string fInstance = makeInstanceId();
    bool fWantLoad = false, fHasCue = false, fFollowHostTempo = true;
    bool fJobPreviewSeen = false;  // the running job's preview was taken (or passed over)
    bool fPlayingPreview = false;  // what plays is a preview, not a whole cue
    std::thread fWorker;

    DISTRHO_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR(MtmPlugin)
};

Plugin* createPlugin() { return new MtmPlugin(); }

END_NAMESPACE_DISTRHO
