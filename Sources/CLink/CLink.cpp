// The C face of Ableton Link for StrideCue (CLink.h says what each call is).
#include "CLink.h"

#include <ableton/Link.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <new>
#include <optional>

struct stridecue_link {
    explicit stridecue_link(double bpm) : link(bpm) {}
    ableton::Link link;
    std::atomic<uint64_t> peers{0};
    std::atomic<uint64_t> tempoChanges{0};
    /// The state the rendering thread took last (`stridecue_link_audio_capture`); only that
    /// thread touches it. Link's SessionState has no empty state, hence the optional.
    std::optional<ableton::Link::SessionState> audio;
};

using std::chrono::microseconds;

int stridecue_link_new(double bpm, stridecue_link **out) {
    try {
        auto *l = new stridecue_link(bpm);
        // Link calls these on its own thread: they only store, so no Swift code runs there.
        l->link.setNumPeersCallback([l](std::size_t n) { l->peers.store(n, std::memory_order_relaxed); });
        l->link.setTempoCallback([l](double) { l->tempoChanges.fetch_add(1, std::memory_order_relaxed); });
        l->audio.emplace(l->link.captureAppSessionState());
        *out = l;
        return 0;
    } catch (const std::bad_alloc &) {
        return -ENOMEM;
    } catch (...) {
        return -EIO;
    }
}

void stridecue_link_free(stridecue_link *l) {
    if (l == nullptr) return;
    // Leaves the session first, so the peers hear of it at once.
    try {
        l->link.enable(false);
    } catch (...) {
    }
    delete l;
}

int stridecue_link_enable(stridecue_link *l, int enabled) {
    try {
        l->link.enable(enabled != 0);
        return 0;
    } catch (...) {
        return -EIO;
    }
}

int stridecue_link_is_enabled(const stridecue_link *l) { return l->link.isEnabled() ? 1 : 0; }

void stridecue_link_enable_start_stop_sync(stridecue_link *l, int enabled) {
    l->link.enableStartStopSync(enabled != 0);
}

uint64_t stridecue_link_peers(const stridecue_link *l) { return l->peers.load(std::memory_order_relaxed); }

uint64_t stridecue_link_tempo_changes(const stridecue_link *l) {
    return l->tempoChanges.load(std::memory_order_relaxed);
}

int64_t stridecue_link_clock_micros(const stridecue_link *l) { return l->link.clock().micros().count(); }

double stridecue_link_app_tempo(const stridecue_link *l) { return l->link.captureAppSessionState().tempo(); }

double stridecue_link_app_phase(const stridecue_link *l, int64_t micros, double quantum) {
    return l->link.captureAppSessionState().phaseAtTime(microseconds(micros), quantum);
}

void stridecue_link_app_set_tempo(stridecue_link *l, double bpm, int64_t micros) {
    auto state = l->link.captureAppSessionState();
    state.setTempo(bpm, microseconds(micros));
    l->link.commitAppSessionState(state);
}

int stridecue_link_app_is_playing(const stridecue_link *l) {
    return l->link.captureAppSessionState().isPlaying() ? 1 : 0;
}

void stridecue_link_app_set_playing(stridecue_link *l, int playing, int64_t micros) {
    auto state = l->link.captureAppSessionState();
    state.setIsPlaying(playing != 0, microseconds(micros));
    l->link.commitAppSessionState(state);
}

void stridecue_link_audio_capture(stridecue_link *l) { l->audio.emplace(l->link.captureAudioSessionState()); }

double stridecue_link_audio_tempo(const stridecue_link *l) { return l->audio->tempo(); }

double stridecue_link_audio_beat(const stridecue_link *l, int64_t micros, double quantum) {
    return l->audio->beatAtTime(microseconds(micros), quantum);
}

double stridecue_link_audio_phase(const stridecue_link *l, int64_t micros, double quantum) {
    return l->audio->phaseAtTime(microseconds(micros), quantum);
}

int64_t stridecue_link_audio_time_at_beat(const stridecue_link *l, double beat, double quantum) {
    return l->audio->timeAtBeat(beat, quantum).count();
}

int stridecue_link_audio_is_playing(const stridecue_link *l) { return l->audio->isPlaying() ? 1 : 0; }

void stridecue_link_audio_set_tempo(stridecue_link *l, double bpm, int64_t micros) {
    l->audio->setTempo(bpm, microseconds(micros));
    l->link.commitAudioSessionState(*l->audio);
}

void stridecue_link_audio_request_beat(stridecue_link *l, double beat, int64_t micros, double quantum) {
    l->audio->requestBeatAtTime(beat, microseconds(micros), quantum);
    l->link.commitAudioSessionState(*l->audio);
}

void stridecue_link_audio_set_playing(stridecue_link *l, int playing, int64_t micros) {
    l->audio->setIsPlaying(playing != 0, microseconds(micros));
    l->link.commitAudioSessionState(*l->audio);
}
