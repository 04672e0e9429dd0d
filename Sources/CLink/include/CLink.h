// StrideCue's C face of Ableton Link (ableton-link-dev, header-only C++): Swift cannot import
// `ableton::Link` itself (neither copyable nor movable) nor the asio headers it brings.
//
// One `stridecue_link` is one Link peer. Calls that can fail return 0 or a negative code
// (-ENOMEM, or -EIO when Link threw: it could not open its sockets); the rest cannot fail.
// Times are microseconds on Link's own clock (`stridecue_link_clock_micros`), the clock every
// peer on the machine shares. Link runs its own threads; this face registers no callback into
// Swift: peers and tempo changes are kept in atomics here and read with plain calls.
//
// Thread rules (Link's): the `audio_` calls are for one thread only, the one that renders; they
// are real-time safe (no allocation, no lock). The others may be called from any thread, but
// not from the rendering one.
#ifndef STRIDECUE_CLINK_H
#define STRIDECUE_CLINK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct stridecue_link stridecue_link;

/// Makes a peer at `bpm`, not yet enabled. The corresponding C++ is `ableton::Link(bpm)`.
int stridecue_link_new(double bpm, stridecue_link **out);
void stridecue_link_free(stridecue_link *link);

/// Joins (1) or leaves (0) the session of the network. `Link::enable`.
int stridecue_link_enable(stridecue_link *link, int enabled);
int stridecue_link_is_enabled(const stridecue_link *link);
/// Shares start and stop with the peers that do too (Link 3). `Link::enableStartStopSync`.
void stridecue_link_enable_start_stop_sync(stridecue_link *link, int enabled);

/// Peers in the session now (kept from Link's peer callback).
uint64_t stridecue_link_peers(const stridecue_link *link);
/// Tempo changes seen from the session (Link's tempo callback), a counter.
uint64_t stridecue_link_tempo_changes(const stridecue_link *link);
/// Link's clock now. `Link::clock().micros()`.
int64_t stridecue_link_clock_micros(const stridecue_link *link);

/// The session as the application thread sees it: tempo, and phase within `quantum` beats at
/// `micros`. `captureAppSessionState` then `tempo` / `phaseAtTime`.
double stridecue_link_app_tempo(const stridecue_link *link);
double stridecue_link_app_phase(const stridecue_link *link, int64_t micros, double quantum);
/// Sets the session's tempo from `micros` on and commits it. `setTempo`, `commitAppSessionState`.
void stridecue_link_app_set_tempo(stridecue_link *link, double bpm, int64_t micros);
/// Whether the session plays (start/stop sync); sets it from `micros`. `isPlaying`, `setIsPlaying`.
int stridecue_link_app_is_playing(const stridecue_link *link);
void stridecue_link_app_set_playing(stridecue_link *link, int playing, int64_t micros);

/// Takes the session's state for this render pass. `captureAudioSessionState`.
void stridecue_link_audio_capture(stridecue_link *link);
/// Of the state taken last: tempo, beat and phase at `micros`, the time of `beat`.
double stridecue_link_audio_tempo(const stridecue_link *link);
double stridecue_link_audio_beat(const stridecue_link *link, int64_t micros, double quantum);
double stridecue_link_audio_phase(const stridecue_link *link, int64_t micros, double quantum);
int64_t stridecue_link_audio_time_at_beat(const stridecue_link *link, double beat, double quantum);
int stridecue_link_audio_is_playing(const stridecue_link *link);
/// Sets the tempo from `micros` on in the state taken last and commits it to the session.
/// `setTempo`, `commitAudioSessionState`.
void stridecue_link_audio_set_tempo(stridecue_link *link, double bpm, int64_t micros);
/// Starts or stops the session from `micros` on in the state taken last and commits it.
/// `setIsPlaying`, `commitAudioSessionState`.
void stridecue_link_audio_set_playing(stridecue_link *link, int playing, int64_t micros);
/// Asks for `beat` at `micros` in the state taken last and commits it: alone, the session's
/// grid moves there; with peers, Link keeps theirs. `requestBeatAtTime`, `commitAudioSessionState`.
void stridecue_link_audio_request_beat(stridecue_link *link, double beat, int64_t micros, double quantum);

#ifdef __cplusplus
}
#endif

#endif
