// A small Ableton Link peer for StrideCue's tests, built by the test itself with g++ from the
// Debian headers (ableton-link-dev): another app in the session, as a phone metronome or DJ
// software would be.
//
//   peer TEMPO STEP...
//
// Joins the session at TEMPO beats per minute, then runs its steps in order:
//   peers:N    waits until N other peers are in the session (at most 30 s, else exits 1)
//   sleep:S    waits S seconds
//   tempo:T    sets the session's tempo to T from now on
//   show       prints the session's tempo ("session T NS")
//   stop       stops the session (start/stop sync), "stop NS"
//   start      starts it again, "start NS"
//   quit       leaves the session and exits 0
// It prints one line per event with the time on CLOCK_MONOTONIC (ns), the clock the paced fake
// card records its frames by: "joined NS", "peers N NS", "tempo T NS", "left NS".
#include <ableton/Link.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <time.h>

static unsigned long long monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: peer TEMPO STEP...\n");
        return 64;
    }
    ableton::Link link(std::atof(argv[1]));
    link.enableStartStopSync(true);
    link.enable(true);
    std::printf("joined %llu\n", monotonic_ns());
    std::fflush(stdout);
    for (int i = 2; i < argc; i++) {
        std::string step = argv[i];
        if (step.rfind("peers:", 0) == 0) {
            std::size_t wanted = std::strtoul(step.c_str() + 6, nullptr, 10);
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
            while (link.numPeers() < wanted) {
                if (std::chrono::steady_clock::now() > deadline) {
                    std::fprintf(stderr, "peer: %zu peers after 30 s, wanted %zu\n", link.numPeers(), wanted);
                    return 1;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            std::printf("peers %zu %llu\n", link.numPeers(), monotonic_ns());
        } else if (step.rfind("sleep:", 0) == 0) {
            std::this_thread::sleep_for(std::chrono::duration<double>(std::atof(step.c_str() + 6)));
        } else if (step.rfind("tempo:", 0) == 0) {
            double tempo = std::atof(step.c_str() + 6);
            auto state = link.captureAppSessionState();
            state.setTempo(tempo, link.clock().micros());
            link.commitAppSessionState(state);
            std::printf("tempo %g %llu\n", tempo, monotonic_ns());
        } else if (step == "show") {
            std::printf("session %.4f %llu\n", link.captureAppSessionState().tempo(), monotonic_ns());
        } else if (step == "stop" || step == "start") {
            auto state = link.captureAppSessionState();
            state.setIsPlaying(step == "start", link.clock().micros());
            link.commitAppSessionState(state);
            std::printf("%s %llu\n", step.c_str(), monotonic_ns());
        } else if (step == "quit") {
            link.enable(false);
            std::printf("left %llu\n", monotonic_ns());
            std::fflush(stdout);
            return 0;
        } else {
            std::fprintf(stderr, "peer: unknown step %s\n", step.c_str());
            return 64;
        }
        std::fflush(stdout);
    }
    return 0;
}
