/* A screen whose session ended (signed out elsewhere, disabled, timed out) goes to the sign-in page instead
   of freezing: Dash's callback requests answer 401 then. */
(function () {
    const original = window.fetch;
    if (!original) { return; }
    window.fetch = function () {
        return original.apply(this, arguments).then(function (response) {
            if (response.status === 401 && String(response.url).indexOf("/_dash-") !== -1) {
                const here = window.location.pathname + window.location.search;
                window.location.assign("/login?next=" + encodeURIComponent(here));
            }
            return response;
        });
    };
})();
