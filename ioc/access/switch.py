"""The city switch of a deployment serving several cities: a form post choosing the session's city, allowed
only for a city the user holds a role in; both the choice and a refusal go to the audit trail."""

from __future__ import annotations

import hmac

import flask

from ioc.access.permissions import refuse, safe_next
from ioc.access.security import Security
from ioc.access.signin import csrf_token
from ioc.auth import current_address, current_user
from ioc.cities import SESSION_CITY, Deployment


def switch_city(security: Security, deployment: Deployment) -> flask.Response:
    """POST /city (city, csrf, next): the session's city becomes `city`, then back to `next` (default /)."""
    user = current_user()
    if user is None:
        return refuse(401, "sign-in required")
    form = flask.request.form
    if not hmac.compare_digest(str(form.get("csrf", "")), csrf_token()):
        return refuse(400, "the form's token does not match this session")
    city = str(form.get("city", ""))[:64]
    if city not in deployment.cities_of(user):
        # a city the user holds no role in: refused whatever else they hold, and kept in the trail
        security.audit.record(
            actor=user.name,
            action="city.refused",
            object=f"city:{city}",
            address=current_address(),
            from_state=deployment.current_city(),
        )
        return refuse(403, "you hold no role in that city")
    before = deployment.current_city()
    flask.session[SESSION_CITY] = city
    if city != before:
        security.audit.record(
            actor=user.name,
            action="city.selected",
            object=f"city:{city}",
            address=current_address(),
            from_state=before,
            to_state=city,
        )
    return flask.redirect(safe_next(form.get("next")) or "/", code=303)
