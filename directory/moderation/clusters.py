"""Account clusters for moderators: linked accounts shown as one, with everything
they did across clinics (services.clusters)."""

from __future__ import annotations

from flask import abort, render_template

from directory.guards import moderator_required
from directory.moderation.views import bp
from directory.services import NotFound, clusters


@bp.get("/clusters")
@moderator_required
def clusters_index():
    return render_template("moderation/clusters.html", items=clusters.waiting_clusters())


@bp.get("/clusters/<int:user_id>")
@moderator_required
def cluster(user_id: int):
    if user_id > 2**62:
        abort(404)
    try:
        found = clusters.cluster_of(user_id)
    except NotFound:
        abort(404)
    return render_template("moderation/cluster.html", c=found)
