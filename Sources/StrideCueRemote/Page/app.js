"use strict";
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const $ = (id) => document.getElementById(id);
let status = {}, plannedFor = null, revision = -1;

// A message beside the control that caused it; it replaces whatever was there (an old
// success included). Errors in red.
function note(where, text, error) {
  const el = $(where); el.textContent = text || ""; el.classList.toggle("error", !!error);
}

// Calls the API; resolves with the answer's JSON, rejects with its error's text.
async function api(path, body) {
  const init = { method: body === undefined ? "GET" : "POST", headers: { "Authorization": "Bearer " + token } };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  let r;
  try { r = await fetch(path, init); } catch (e) { throw new Error("no answer from the remote: is stridecue still running?"); }
  const text = await r.text();
  let data = {};
  try { data = JSON.parse(text); } catch (e) { data = { error: text }; }
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}
// A state change from a control: its message (or none) goes to `where`.
function act(path, body, where) {
  return api(path, body || {}).then(d => { note(where, ""); return d; },
                                    e => { note(where, e.message, true); throw e; });
}

const STATES = { "caution": "caution", "counting-in": "count-in", "playing": "playing", "resting": "rest",
                 "pausing": "pausing", "paused": "paused", "stopping": "stopping", "finished": "finished",
                 "idle": "waiting for a drill", "starting": "starting" };

function show(s) {
  status = s;
  const drill = s.cadence !== null && s.cadence !== undefined;
  const st = $("state");
  st.textContent = (STATES[s.state] || s.state) + (s.preset && !drill ? " " + s.preset : "");
  st.className = s.state;
  $("drill").textContent = s.name || "StrideCue";
  $("cadence").textContent = drill ? fmt(s.cadence) : "–";
  // The tempo heard only while clicks are heard: not over a rest's, a caution's or a pause's silence.
  const clicking = s.state === "playing" || s.state === "counting-in" || s.state === "pausing";
  $("tempo").textContent = drill && clicking ? "playing at " + fmt(s.tempo) + " spm" : "";
  $("target").textContent = drill && clicking && s.target !== s.tempo ? "→ " + fmt(s.target) + " spm from the next step" : "";
  let set = "", step = "";
  if (drill) {
    if (s.state === "caution") { step = "caution first"; }
    else if (s.rest != null) { set = "next: set " + s.set + "/" + s.sets; step = "rest " + clock(s.rest); }
    else if (s.countIn) { set = "set " + s.set + "/" + s.sets; step = "count-in " + s.countIn + "/" + s.countInLength; }
    else { set = "set " + s.set + "/" + s.sets; step = "step " + s.step; }
  }
  $("set").textContent = set;
  $("step").textContent = step;
  $("clock").textContent = s.clock || "";
  runner(drill ? s : {});
  squad(drill ? s : {});
  $("next").textContent = s.nextCue ? "next " + s.nextCue : "";
  $("message").textContent = s.message || "";
  $("pause").textContent = s.state === "paused" || s.state === "pausing" ? "resume" : "pause";
  if (s.revision !== revision) { revision = s.revision; drillChanged(s); }
  picture(s);
  placeMarker();
}
// The runner's own cadence beside the target, from their sensor (play --sensor), and how long
// they have held the band; what the sensor is doing when it gives none. Nothing without a sensor.
function runner(s) {
  let text = "", kind = "";
  if (s.sensor === "reading" && typeof s.measuredCadence === "number") {
    const off = s.measuredCadence - s.target;
    if (Math.abs(off) <= s.band) { text = "runner " + fmt(s.measuredCadence) + " spm · in band " + clock(s.inBand || 0); kind = "in"; }
    else { text = "runner " + fmt(s.measuredCadence) + " spm · " + fmt(Math.abs(off)) + (off < 0 ? " under" : " over"); kind = "off"; }
    if (s.clicksFaded) text += " · clicks faded";
  } else if (s.sensor === "standing") { text = "runner standing"; kind = "off"; }
  else if (s.sensor === "connecting") { text = "sensor connecting…"; }
  else if (s.sensor === "silent") { text = "sensor silent"; kind = "lost"; }
  else if (s.sensor === "reconnecting") { text = "sensor lost: reconnecting"; kind = "lost"; }
  if (text && s.malformed) text += " · " + s.malformed + " malformed ignored";
  const el = $("runner"); el.textContent = text; el.className = kind;
}
// With --link: how many other devices click in step with this one (Ableton Link). Nothing without.
function squad(s) {
  const n = s.linkPeers;
  $("squad").textContent = typeof n !== "number" ? ""
    : n === 0 ? "Link: no other device yet" : "Link: in step with " + n + (n === 1 ? " other device" : " other devices");
}
// The "now" marker where the last status puts it, once a picture is there to mark.
function placeMarker() {
  const s = status, marker = $("marker");
  const drill = s.cadence !== null && s.cadence !== undefined;
  if (drill && typeof s.now === "number" && $("planinner").querySelector("svg")) {
    marker.style.left = (s.now * 100) + "%"; marker.style.display = "block";
    // Keep the marker in view where the picture is wider than the phone.
    const plan = $("plan"), x = s.now * $("planinner").offsetWidth;
    if (x < plan.scrollLeft + 40 || x > plan.scrollLeft + plan.clientWidth - 40) plan.scrollLeft = Math.max(0, x - plan.clientWidth / 3);
  } else { marker.style.display = "none"; }
}
function fmt(x) { return (Math.round(x * 10) / 10).toString(); }
function clock(sec) { const m = Math.floor(sec / 60), s = Math.floor(sec % 60); return m + ":" + (s < 10 ? "0" : "") + s; }

// The plan picture, fetched again whenever the server drew it anew (another drill, the
// coach's cadence, a saved edit).
function picture(s) {
  const drill = s.cadence !== null && s.cadence !== undefined;
  const inner = $("planinner");
  if (!drill) { inner.querySelectorAll("svg").forEach(e => e.remove()); plannedFor = null; return; }
  const key = s.preset + "/" + s.name + "/" + s.picture;
  if (plannedFor === key) return;
  plannedFor = key;
  fetch("/api/plan.svg", { headers: { "Authorization": "Bearer " + token } })
    .then(r => r.ok ? r.text() : "").then(svg => {
      if (plannedFor !== key) return;
      const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
      inner.querySelectorAll("svg").forEach(e => e.remove());
      if (doc.documentElement && doc.documentElement.nodeName === "svg") inner.insertBefore(document.importNode(doc.documentElement, true), $("marker"));
      placeMarker();
    }).catch(() => {});
}

function drillChanged(s) {
  const cues = $("cues"); cues.textContent = "";
  (s.cues || []).forEach((label, i) => {
    const b = document.createElement("button"); b.textContent = label;
    b.addEventListener("click", () => act("/api/cue", { cue: i + 1 }, "msg-say").catch(() => {})); cues.appendChild(b);
  });
  document.querySelectorAll("#library button").forEach(b => b.classList.toggle("current", b.dataset.preset === s.preset));
  if (s.planCadence !== undefined && !document.activeElement.closest("#edit")) {
    $("e-cadence").value = s.planCadence; $("e-from").value = s.rampFrom ?? "";
    $("e-steps").value = s.rampSteps ?? ""; $("e-rest").value = s.planRest;
  }
}

function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/events?token=" + encodeURIComponent(token));
  ws.onopen = () => { $("conn").textContent = "live"; $("conn").classList.remove("off"); };
  ws.onmessage = (e) => { try { show(JSON.parse(e.data)); } catch (err) {} };
  ws.onclose = () => { $("conn").textContent = "offline"; $("conn").classList.add("off"); setTimeout(connect, 1000); };
}

document.addEventListener("DOMContentLoaded", () => {
  const quiet = () => {};
  document.querySelectorAll("[data-delta]").forEach(b =>
    b.addEventListener("click", () => act("/api/cadence", { delta: Number(b.dataset.delta) }, "msg-controls").catch(quiet)));
  $("pause").addEventListener("click", () =>
    act(status.state === "paused" || status.state === "pausing" ? "/api/resume" : "/api/pause", {}, "msg-controls").catch(quiet));
  $("skip").addEventListener("click", () => act("/api/next", {}, "msg-controls").catch(quiet));
  $("stop").addEventListener("click", () => act("/api/stop", {}, "msg-controls").catch(quiet));
  $("sayform").addEventListener("submit", (e) => {
    e.preventDefault(); const text = $("saytext").value.trim();
    if (!text) return;
    // The text box is cleared only once the words were taken: a refused "say" keeps them.
    act("/api/say", { text }, "msg-say").then(() => { $("saytext").value = ""; note("msg-say", "said: " + text); }, quiet);
  });
  $("edit").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!status.preset) { note("saved", "no preset is playing: start one from the library", true); return; }
    const body = { preset: status.preset };
    const num = (id) => $(id).value.trim() === "" ? undefined : Number($(id).value);
    body.cadence = num("e-cadence"); body.rampFrom = num("e-from"); body.rampSteps = num("e-steps"); body.rest = num("e-rest");
    note("saved", "");
    act("/api/preset", body, "saved").then(d => note("saved", d.saved), quiet);
  });
  api("/api/library").then(d => {
    const lib = $("library");
    d.presets.forEach(name => {
      const b = document.createElement("button"); b.textContent = name; b.dataset.preset = name;
      b.addEventListener("click", () => act("/api/start", { preset: name }, "msg-library").catch(quiet)); lib.appendChild(b);
    });
    document.querySelectorAll("#library button").forEach(b => b.classList.toggle("current", b.dataset.preset === status.preset));
  }).catch(e => note("msg-library", e.message, true));
  api("/api/status").then(show).catch(e => { $("message").textContent = e.message; });
  connect();
});
