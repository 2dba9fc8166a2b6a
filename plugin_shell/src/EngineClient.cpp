#include "EngineClient.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#ifndef MTM_ENGINE_COMMAND
#define MTM_ENGINE_COMMAND "mtm"
#endif

namespace {

constexpr size_t kMaxAnswerBytes = 16 * 1024 * 1024;
constexpr double kSecondsBetweenStarts = 5.0;

double nowSeconds() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

bool isDirectory(const char* path) {
    struct stat info;
    return path && *path && stat(path, &info) == 0 && S_ISDIR(info.st_mode);
}

}  // namespace

std::string engineRuntimeFolder() {
    if (const char* override = std::getenv("MTM_RUNTIME_DIR"); override && *override) return override;
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    if (isDirectory(runtime)) return std::string(runtime) + "/mtm_daw";
    const char* temp = std::getenv("TMPDIR");
    return std::string(isDirectory(temp) ? temp : "/tmp") + "/mtm_daw-" + std::to_string(getuid());
}

EngineClient::EngineClient() : fFolder(engineRuntimeFolder()), fSocketPath(fFolder + "/engine.sock") {}

bool EngineClient::ask(const std::string& request, Json& answer, std::string& error, bool& engineDown) {
    engineDown = true;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (fSocketPath.size() >= sizeof(address.sun_path)) {
        error = "the engine's socket path is too long: " + fSocketPath;
        return false;
    }
    std::memcpy(address.sun_path, fSocketPath.c_str(), fSocketPath.size() + 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("cannot open a socket: ") + std::strerror(errno);
        return false;
    }
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        error = "engine stopped (nothing answers at " + fSocketPath + ")";
        close(fd);
        return false;
    }
    std::string line = request + "\n";
    size_t sent = 0;
    while (sent < line.size()) {
        const ssize_t n = send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            error = "engine stopped while being asked";
            close(fd);
            return false;
        }
        sent += size_t(n);
    }
    std::string reply;
    char buffer[65536];
    while (reply.find('\n') == std::string::npos) {
        const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        reply.append(buffer, size_t(n));
        if (reply.size() > kMaxAnswerBytes) break;
    }
    close(fd);
    if (reply.empty()) {
        error = "engine stopped before it answered";
        return false;
    }
    engineDown = false;
    if (!Json::parse(reply.substr(0, reply.find('\n')), answer, error)) return false;
    if (!answer.flag("ok")) {
        error = answer.str("error", "the engine refused the request");
        return false;
    }
    return true;
}

void EngineClient::startEngine() {
    const double now = nowSeconds();
    if (now - fLastStart < kSecondsBetweenStarts) return;
    fLastStart = now;
    spawnDetached({"serve", "--idle-exit", "3600"}, "engine.log");
}

void EngineClient::openPanel(const std::string& instance) { spawnDetached({"ui", "--send-to", instance}, "panel.log"); }

void EngineClient::spawnDetached(const std::vector<std::string>& arguments, const std::string& logName) {
    mkdir(fFolder.c_str(), 0700);
    const char* override = std::getenv("MTM_ENGINE");
    const std::string command = (override && *override) ? override : MTM_ENGINE_COMMAND;
    const std::string log = fFolder + "/" + logName;
    // Everything the child needs is made before fork: between fork and exec only async-signal-safe calls.
    std::vector<char*> argv = {const_cast<char*>(command.c_str())};
    for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    const pid_t child = fork();
    if (child < 0) return;
    if (child == 0) {
        setsid();
        if (fork() != 0) _exit(0);  // re-parented to init: never a zombie of the host, outlives it
        const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        const int in = open("/dev/null", O_RDONLY);
        if (in >= 0) dup2(in, 0);
        if (out >= 0) { dup2(out, 1); dup2(out, 2); }
        for (int fd = 3; fd < 1024; ++fd) close(fd);  // the host's files and sockets stay with the host
        execvp(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
}
