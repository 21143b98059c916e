"""Prints the attack table at the end of the run (rows come from record_property,
which pytest-xdist carries back from its workers)."""


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rows = []
    for key in ("passed", "failed"):
        for rep in terminalreporter.stats.get(key, []):
            for name, value in getattr(rep, "user_properties", []):
                if name == "attack_row" and rep.when == "call":
                    rows.append(value)
    if not rows:
        return
    head = ("attack", "flagged by", "rank change before moderation", "rank change if all published")
    table = [head] + [
        (
            r["attack"] + (f" ({r['note']})" if r["note"] else ""),
            r["flagged"],
            str(r["before_moderation"]),
            (
                f"{r['if_published']:+d}"
                if isinstance(r["if_published"], int)
                else r["if_published"]
            ),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    terminalreporter.write_sep("=", "adversarial suite")
    for i, row in enumerate(table):
        terminalreporter.write_line(
            " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
        )
        if i == 0:
            terminalreporter.write_line("-+-".join("-" * w for w in widths))
