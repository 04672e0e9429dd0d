// The coach's page, served from the binary: no CDN, no web font, nothing fetched from
// elsewhere, so it works at a track with no internet. The token travels in the URL's
// fragment (never sent to the server by the browser) and then in an Authorization header.
enum Page {
    static let html = """
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>StrideCue coach</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/app.css">
    <script src="/app.js" defer></script>
    </head>
    <body>
    <header><span id="drill">StrideCue</span><span id="conn" class="off">offline</span></header>
    <main>
    <section id="now" class="card">
      <div id="state">waiting</div>
      <div class="big"><span id="cadence">–</span><small>spm</small></div>
      <div id="tempo"></div>
      <div id="target"></div>
      <div class="row facts"><span id="set"></span><span id="step"></span><span id="clock"></span></div>
      <div id="next"></div>
      <div id="message" role="status"></div>
    </section>
    <section class="card">
      <div class="row tempo">
        <button data-delta="-5">−5</button><button data-delta="-1">−1</button>
        <button data-delta="1">+1</button><button data-delta="5">+5</button>
      </div>
      <div class="row">
        <button id="pause" class="wide">pause</button><button id="skip" class="wide">next</button>
        <button id="stop" class="wide danger">stop</button>
      </div>
      <div id="msg-controls" class="msg" role="alert"></div>
    </section>
    <section class="card">
      <h2>Say</h2>
      <div id="cues" class="row wrap"></div>
      <form id="sayform" class="row"><input id="saytext" maxlength="200" placeholder="say now…" autocomplete="off"><button type="submit">say</button></form>
      <div id="msg-say" class="msg" role="alert"></div>
    </section>
    <section class="card">
      <h2>Plan</h2>
      <div id="plan"><div id="planinner"><div id="marker"></div></div></div>
    </section>
    <section class="card">
      <h2>Drill library</h2>
      <div id="library" class="row wrap"></div>
      <div id="msg-library" class="msg" role="alert"></div>
    </section>
    <section class="card">
      <h2>Edit this drill</h2>
      <form id="edit" class="grid">
        <label>cadence <input id="e-cadence" inputmode="decimal"></label>
        <label>ramp from <input id="e-from" inputmode="decimal"></label>
        <label>ramp steps <input id="e-steps" inputmode="numeric"></label>
        <label>rest (s) <input id="e-rest" inputmode="decimal"></label>
        <button type="submit">save</button>
      </form>
      <div id="saved" class="msg" role="alert"></div>
    </section>
    </main>
    </body>
    </html>
    """

    static let style = """
    *{box-sizing:border-box}
    html,body{margin:0;padding:0;overflow-x:hidden}
    body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#eef1f5;color:#1b2430;max-width:100vw}
    header{display:flex;justify-content:space-between;align-items:center;padding:10px 14px;background:#1b2430;color:#fff;font-weight:600}
    #conn{font-size:12px;padding:2px 8px;border-radius:10px;background:#2b8a3e}
    #conn.off{background:#c92a2a}
    main{padding:8px;display:flex;flex-direction:column;gap:8px}
    .card{background:#fff;border-radius:12px;padding:12px;box-shadow:0 1px 2px rgba(0,0,0,.08);min-width:0}
    h2{font-size:14px;margin:0 0 8px;color:#6b7685;text-transform:uppercase;letter-spacing:.05em}
    #now{text-align:center}
    #state{font-size:14px;color:#6b7685;text-transform:uppercase;letter-spacing:.08em}
    .big{font-size:84px;font-weight:700;line-height:1;font-variant-numeric:tabular-nums;color:#1c64d9}
    .big small{font-size:18px;color:#6b7685;margin-left:6px;font-weight:500}
    #target{min-height:1.2em;color:#e8590c;font-weight:600}
    #tempo{color:#1b2430;font-size:18px;font-variant-numeric:tabular-nums}
    .facts{justify-content:center;gap:14px;font-size:18px;font-variant-numeric:tabular-nums}
    #next{margin-top:6px;color:#2b8a3e;font-weight:600;overflow-wrap:anywhere}
    .row{display:flex;gap:8px;margin:4px 0}
    .wrap{flex-wrap:wrap}
    button{font:inherit;font-size:20px;font-weight:600;border:0;border-radius:10px;padding:14px 0;background:#dbe4ff;color:#1b2430;flex:1;min-width:0;touch-action:manipulation}
    button:active{background:#bac8ff}
    .wrap button{flex:0 1 auto;padding:10px 12px;font-size:16px;overflow-wrap:anywhere}
    button.danger{background:#ffe3e3}
    button.current{background:#1c64d9;color:#fff}
    input{font:inherit;font-size:18px;padding:10px;border:1px solid #c5ccd6;border-radius:8px;min-width:0;width:100%}
    #sayform input{flex:3}
    #plan{width:100%;overflow-x:auto;-webkit-overflow-scrolling:touch}
    #planinner{position:relative;width:100%;min-width:800px}
    #plan svg{display:block;width:100%;height:auto}
    #marker{position:absolute;top:0;bottom:0;width:3px;margin-left:-1px;background:#e03131;left:0;display:none;pointer-events:none}
    .grid{display:grid;grid-template-columns:1fr 1fr;gap:8px;align-items:end}
    .grid label{font-size:13px;color:#6b7685;display:flex;flex-direction:column;gap:4px}
    #message{text-align:center;color:#c92a2a;font-weight:600;overflow-wrap:anywhere}
    .msg{font-size:15px;font-weight:600;white-space:pre-wrap;overflow-wrap:anywhere;color:#2b8a3e}
    .msg:empty{display:none}
    .msg.error{color:#c92a2a}
    #state.caution,#state.resting,#state.paused{color:#e8590c;font-weight:700}
    """

    static let script = """
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
      $("next").textContent = s.nextCue ? "next " + s.nextCue : "";
      $("message").textContent = s.message || "";
      $("pause").textContent = s.state === "paused" || s.state === "pausing" ? "resume" : "pause";
      if (s.revision !== revision) { revision = s.revision; drillChanged(s); }
      picture(s);
      placeMarker();
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
    """
}
