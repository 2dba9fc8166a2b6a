// Talking to `mtm serve` over its Unix domain socket (one JSON request and answer per connection), and
// starting it when no engine answers. Never called on the audio thread.
#pragma once

#include <string>
#include <vector>

#include "Json.hpp"

// $MTM_RUNTIME_DIR, else $XDG_RUNTIME_DIR/mtm_daw, else <temp folder>/mtm_daw-<uid>: as mtm_daw.serve.protocol.
std::string engineRuntimeFolder();

class EngineClient {
public:
    EngineClient();

    // Sends `request` (one JSON object) and reads the answer. False with `error` set when no engine answers
    // (`engineDown` true) or it says the request failed (`engineDown` false).
    bool ask(const std::string& request, Json& answer, std::string& error, bool& engineDown);

    // Starts `mtm serve` detached from the host (its own session, so it outlives a host crash), unless one
    // was started in the last few seconds. Its output goes to engine.log in the runtime folder.
    void startEngine();

    // Opens the PyQt6 panel (`mtm ui --send-to INSTANCE`), detached like the engine; output to panel.log.
    void openPanel(const std::string& instance);

    const std::string& socketPath() const { return fSocketPath; }

private:
    void spawnDetached(const std::vector<std::string>& arguments, const std::string& logName);

    std::string fFolder;
    std::string fSocketPath;
    double fLastStart = -1e9;
};
