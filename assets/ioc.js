/* What runs in the browser: the header's clock and heartbeat (the clock shows the city's time zone, and the
   heartbeat turns to "lost" when the server has not answered for a few beats), and the map legend's layer
   switches. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    ioc: {
        clock: function (_tick, beat, zone) {
            const now = new Date();
            const timeZone = (zone && zone.zone) || "Asia/Ho_Chi_Minh";
            const lostAfter = (zone && zone.lost_ms) || 6000;
            if (beat && beat.seq !== window.iocLastBeatSeq) {
                window.iocLastBeatSeq = beat.seq;
                window.iocLastBeatAt = now.getTime();
                window.iocBeats = (window.iocBeats || 0) + 1;
            }
            const time = new Intl.DateTimeFormat("en-GB", {
                timeZone: timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
            }).format(now);
            const date = new Intl.DateTimeFormat("en-GB", {
                timeZone: timeZone, day: "2-digit", month: "2-digit", year: "numeric"
            }).format(now);
            let state = "lost";
            let label = beat ? beat.lost : "";
            if (beat && now.getTime() - (window.iocLastBeatAt || 0) < lostAfter) {
                state = beat.redis ? "live" : "redis-down";
                label = beat.redis ? beat.live : beat.redis_down;
            }
            // two identical animations under two names: switching name restarts the pulse on each beat
            const pulse = state === "live" ? ((window.iocBeats || 0) % 2 ? " ioc-beat-a" : " ioc-beat-b") : "";
            return [time, date, "ioc-heartbeat ioc-heartbeat--" + state + pulse, label];
        },
        // The sound switch: the click is itself the gesture a browser waits for before it plays any sound.
        enableSound: function (_clicks) {
            return true;
        },
        // Plays the most urgent sounding alarm's sound (looped) while this screen's sound is on; stops it once
        // every announced alarm is acknowledged (it leaves the list) or silenced here. Opens the pop-up.
        annunciate: function (announced, soundOn, silenced) {
            const quiet = new Set(silenced || []);
            const sounding = (announced || []).filter(item => !quiet.has(item.id));
            const wanted = sounding.some(item => item.sound === "urgent") ? "urgent" : (sounding.length ? "high" : "");
            document.querySelectorAll("audio[data-sound]").forEach(audio => {
                if (soundOn && audio.dataset.sound === wanted) {
                    if (audio.paused) { audio.play().catch(() => {}); }
                } else if (!audio.paused) {
                    audio.pause();
                    audio.currentTime = 0;
                }
            });
            const open = sounding.length > 0;
            return ["annunciator" + (open ? " annunciator--open" : ""),
                    "sound-notice" + (open && !soundOn ? " sound-notice--shown" : ""),
                    "annunciator-sound" + (soundOn ? " annunciator-sound--on" : "")];
        },
        // How large this screen draws: the root font size over the 18 px of a 1920 px screen (see ioc.css).
        screenScale: function (_tick, current) {
            const root = parseFloat(window.getComputedStyle(document.documentElement).fontSize) || 18;
            const scale = Math.round(root / 18 * 4) / 4;
            return scale === current ? window.dash_clientside.no_update : scale;
        },
        // A legend chip hides or shows its sector on this screen only; the list is kept in the browser.
        toggleLayer: function (_clicks, hidden) {
            const ctx = window.dash_clientside.callback_context;
            const trigger = ctx && ctx.triggered_id;
            if (!trigger || !trigger.sector || !ctx.triggered.some(t => t.value)) {
                return window.dash_clientside.no_update;
            }
            const next = (hidden || []).filter(sector => sector !== trigger.sector);
            if (next.length === (hidden || []).length) {
                next.push(trigger.sector);
            }
            return next;
        }
    }
});
