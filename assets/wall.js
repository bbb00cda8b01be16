/* The video wall in the browser (layouts/wall.py): the tick that asks the server for the screen's state (and
   is the heartbeat), the clock that says "connection lost" once the ticks stop answering, and the zoom of the
   control room's map to an area of the playlist. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wall: {
        // A fetch, not a server callback: a refusal (the screen was revoked) must be told apart from a server
        // that does not answer. Only a view that moved is handed on, so the page redraws once per view.
        tick: async function (_tick, setup, view, lang) {
            const noUpdate = window.dash_clientside.no_update;
            if (!setup) {
                return [noUpdate, noUpdate];
            }
            const query = new URLSearchParams({screen: setup.screen || "", lang: lang || "vi"});
            const abort = new AbortController();
            const timer = setTimeout(() => abort.abort(), setup.timeout_ms || 3000);
            try {
                const response = await fetch(setup.state + "?" + query.toString(),
                                             {credentials: "same-origin", cache: "no-store", signal: abort.signal});
                if (response.status === 401 || response.status === 403) {
                    window.iocWallRevoked = true;
                    return [{revoked: true}, null];
                }
                if (!response.ok) {
                    return [noUpdate, noUpdate];
                }
                const state = await response.json();
                window.iocWallRevoked = false;
                window.iocWallOkAt = Date.now();
                window.iocWallAsOf = state.as_of;
                const moved = !view || !state.view || view.key !== state.view.key;
                if (moved && state.view) {
                    // each showing of a view is its own: an area comes round again and is zoomed again
                    state.view.shown = Date.now();
                }
                return [state, moved ? state.view : noUpdate];
            } catch (error) {
                return [noUpdate, noUpdate];  // no answer in time: the clock counts the loss
            } finally {
                clearTimeout(timer);
            }
        },
        clock: function (_tick, state, setup, view, lang) {
            const now = Date.now();
            const zone = (setup && setup.zone) || "Asia/Ho_Chi_Minh";
            const texts = ((setup && setup.texts) || {})[lang === "en" ? "en" : "vi"] || {};
            const time = new Intl.DateTimeFormat("en-GB", {
                timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
            }).format(new Date(now));
            const lost = !window.iocWallOkAt || now - window.iocWallOkAt > ((setup && setup.lost_ms) || 6000);
            const classes = ["wall"];
            if (window.iocWallRevoked || (state && state.revoked)) {
                classes.push("wall--revoked");
            } else if (lost && window.iocWallOkAt) {
                classes.push("wall--lost");
            }
            if (view && view.kind === "takeover") {
                classes.push("wall--takeover");
            }
            const lostText = (texts.lost || "").replace("{time}", window.iocWallAsOf || "—");
            return [time,
                    "wall-beat wall-beat--" + (lost ? "lost" : "live"),
                    lost ? texts.lost_short : texts.live,
                    classes.join(" "),
                    lost && window.iocWallOkAt ? lostText : ""];
        },
        zoom: function (figure, view, zoomed) {
            const noUpdate = window.dash_clientside.no_update;
            const showing = view ? view.key + "@" + view.shown : "";
            if (!view || !view.bounds || zoomed === showing || !figure || !(figure.data || []).length) {
                return noUpdate;
            }
            const graph = document.querySelector(".wall .city-map .js-plotly-plot");
            if (!graph || !window.Plotly) {
                return noUpdate;
            }
            const [west, south, east, north] = view.bounds;
            const padX = (east - west) * 0.08, padY = (north - south) * 0.08;
            // a relayout, as a person's zoom would be: the map then sends this area's points, not its clusters
            window.Plotly.relayout(graph, {
                "xaxis.range": [west - padX, east + padX], "yaxis.range": [south - padY, north + padY]
            });
            return showing;
        }
    }
});
