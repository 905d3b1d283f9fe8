"""The person (or the scheduled job) acting, as the domain sees them: no HTTP, no session."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("clerk", "staff", "manager", "archivist", "director", "admin")


@dataclass(frozen=True)
class Actor:
    """Who acts, with their place in the company: the department (销售部, 财务部 …), the
    sales region of sales staff (a manager without one oversees all), and whether they head
    their department. Records keep ``name``; people read ``display_name``."""

    name: str
    role: str
    client: str | None = None  # e.g. the remote address, or "cli"
    display_name: str | None = None
    department: str | None = None
    region: str | None = None
    head: bool = False
    # 职责: the review steps this person decides (合同审核, 法务 …; see archive.reviews).
    duties: tuple[str, ...] = ()
    # The local operator (the CLI without --as) and the scheduled jobs: whoever runs them
    # already holds the data root, so they read the whole archive.
    operator: bool = False

    def can(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles


# The scheduled jobs and the local operator's CLI: the whole archive (see archive.access).
SYSTEM = Actor("system", "admin", "local", operator=True)
