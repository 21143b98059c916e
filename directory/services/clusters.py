"""Account clusters: accounts linked by address, device, network or e-mail pattern,
shown as one with everything they did across clinics (services.signals finds the
links). A moderator sees praise for one clinic next to criticism of its rivals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.extensions import db
from directory.models import Clinic, Report, Review, User
from directory.services import NotFound, signals

MAX_ACCOUNTS = 40
POSITIVE, NEGATIVE = 4, 2


@dataclass
class ClinicActivity:
    clinic: Clinic
    reviews: list[Review] = field(default_factory=list)

    @property
    def stance(self) -> str:
        """praise, criticism or mixed, over the cluster's testimonials on the clinic."""
        marks = {
            "praise" if r.overall >= POSITIVE else "criticism" if r.overall <= NEGATIVE else "mixed"
            for r in self.reviews
        }
        return marks.pop() if len(marks) == 1 else "mixed"


@dataclass
class Cluster:
    seed: User
    accounts: list[User]
    links: dict[int, dict[int, frozenset[str]]]  # account -> linked account -> kinds
    activity: list[ClinicActivity]
    reports: list[Report]
    owned: list[Clinic]
    truncated: bool

    @property
    def praised_and_criticised_rivals(self) -> list[tuple[ClinicActivity, list[ClinicActivity]]]:
        """Clinics the cluster praises, each with the rivals it criticises."""
        out = []
        for a in self.activity:
            if a.stance != "praise":
                continue
            rivals = signals.rivals_of(a.clinic)
            run_down = [
                b for b in self.activity if b.clinic.id in rivals and b.stance == "criticism"
            ]
            if run_down:
                out.append((a, run_down))
        return out

    def kinds_between(self, a: int, b: int) -> frozenset[str]:
        return self.links.get(a, {}).get(b, frozenset())


def cluster_of(user_id: int, max_accounts: int = MAX_ACCOUNTS) -> Cluster:
    """The accounts reachable from the user through links (breadth first, at most
    max_accounts). Raises NotFound for an unknown account."""
    seed = db.session.get(User, user_id)
    if seed is None:
        raise NotFound("No such account.")
    seen = {seed.id}
    frontier = [seed.id]
    links: dict[int, dict[int, frozenset[str]]] = {}
    truncated = False
    while frontier:
        found = signals.linked_accounts(frontier)
        links.update(found)
        nxt = []
        for uid in frontier:
            for other in sorted(found.get(uid, {})):
                if other in seen:
                    continue
                if len(seen) >= max_accounts:
                    truncated = True
                    continue
                seen.add(other)
                nxt.append(other)
        frontier = nxt
    accounts = list(
        db.session.execute(select(User).where(User.id.in_(seen)).order_by(User.id)).scalars()
    )
    reviews = list(
        db.session.execute(
            select(Review)
            .where(Review.author_id.in_(seen))
            .options(selectinload(Review.clinic))
            .order_by(Review.created_at)
        ).scalars()
    )
    by_clinic: dict[int, ClinicActivity] = {}
    for r in reviews:
        by_clinic.setdefault(r.clinic_id, ClinicActivity(r.clinic)).reviews.append(r)
    reports = list(
        db.session.execute(
            select(Report).where(Report.reporter_id.in_(seen)).order_by(Report.created_at)
        ).scalars()
    )
    owned = list(db.session.execute(select(Clinic).where(Clinic.owner_id.in_(seen))).scalars())
    return Cluster(
        seed=seed,
        accounts=accounts,
        links=links,
        activity=sorted(by_clinic.values(), key=lambda a: a.clinic.name.lower()),
        reports=reports,
        owned=owned,
        truncated=truncated,
    )


@dataclass(frozen=True)
class ClusterSummary:
    seed_id: int
    size: int
    pending: int
    kinds: frozenset[str]


def waiting_clusters(limit: int = 50) -> list[ClusterSummary]:
    """Authors of pending testimonials and reporters of open reports who are linked
    to other accounts, largest groups first."""
    pending = defaultdict(int)
    for (author_id,) in db.session.execute(
        select(Review.author_id).where(Review.status == "pending", Review.author_id.is_not(None))
    ):
        pending[author_id] += 1
    for (reporter_id,) in db.session.execute(
        select(Report.reporter_id).where(Report.status == "open", Report.reporter_id.is_not(None))
    ):
        pending[reporter_id] += 1
    found = signals.linked_accounts(list(pending)[:2000])
    groups: dict[frozenset[int], set[str]] = {}
    for uid, others in found.items():
        if not others:
            continue
        members = frozenset({uid, *others})
        groups.setdefault(members, set()).update(k for v in others.values() for k in v)
    # Merge groups that share a member (one cluster per component).
    merged: list[tuple[set[int], set[str]]] = []
    for members, kinds in groups.items():
        hit = [g for g in merged if g[0] & members]
        new = (set(members), set(kinds))
        for g in hit:
            new[0].update(g[0])
            new[1].update(g[1])
            merged.remove(g)
        merged.append(new)
    out = [
        ClusterSummary(
            seed_id=min(m & set(pending)) if m & set(pending) else min(m),
            size=len(m),
            pending=sum(pending.get(u, 0) for u in m),
            kinds=frozenset(k),
        )
        for m, k in merged
    ]
    return sorted(out, key=lambda c: (-c.size, -c.pending, c.seed_id))[:limit]
