"""What each rule for using a pseudo-pair adaptation would have given the user, from rows of
``adapt_gain.py --force`` (every model adapted and used, each model's own change on the images
``auto`` chose it for recorded with the checks' figures).

    python benchmarks/adapt_rules.py docs/results/adapt-auto-default-matched-force.jsonl

A model's adaptation counts when the rule takes it (the held-out pseudo-pairs better by more than
``MIN_SIGNIFICANCE`` standard errors, SURE's significance not below the rule's limit under each
noise model it names, and in the last rule the nearest matched draw within ``MAX_DISTANCE``); the user's change on a row is the sum of the counted models' changes. Prints
a Markdown table: one column per rule, one row per set and noise, and the worst and best row."""

import argparse
import json

from noise2noise.adapt import MAX_DISTANCE, MIN_SIGNIFICANCE

# rule: (noise models whose SURE significance is read, the least significance allowed)
RULES = {
    "no SURE veto": ((), 0.0),
    "bracket >= -3": (("plane", "residual"), -3.0),
    "bracket >= 0": (("plane", "residual"), 0.0),
    "matched >= 0": (("matched",), 0.0),
    "matched >= 0, bracket >= -3": None,  # both of the above
    "bracket >= -3, nearest draw within MAX_DISTANCE": "near",
}

ap = argparse.ArgumentParser()
ap.add_argument("rows", nargs="+")
a = ap.parse_args()


def taken(g: dict, rule) -> bool:
    if g.get("check") != "pseudo" or g["significance"] <= MIN_SIGNIFICANCE:
        return False
    if rule is None:
        return taken(g, RULES["matched >= 0"]) and taken(g, RULES["bracket >= -3"])
    if rule == "near":
        return taken(g, RULES["bracket >= -3"]) and g["nearest_noise"]["distance"] <= MAX_DISTANCE
    readings, limit = rule
    return all(g["sure_by_reading"][r] >= limit for r in readings)


def groups(row: dict) -> dict:
    """Per model: its figures; a row with one model (no ``groups``) as one group of the whole set."""
    if "groups" in row:
        return row["groups"]
    one = {k: row.get(k) for k in ("check", "significance", "sure_by_reading", "nearest_noise")}
    return {row["model"]: {**one, "gain_db": row["gain_db"]}}


rows = [json.loads(line) for path in a.rows for line in open(path) if line.strip()]
print("| set | noise | " + " | ".join(RULES) + " |")
print("|---|---|" + "---:|" * len(RULES))
totals = {r: [] for r in RULES}
for row in rows:
    cells = []
    for name, rule in RULES.items():
        gain = sum(g["gain_db"] for g in groups(row).values() if taken(g, rule))
        totals[name].append(gain)
        cells.append(f"{gain:+.3f}")
    print(f"| {row['set'].rstrip('/').split('/')[-1]} | {row['noise']} | " + " | ".join(cells) + " |")
print("| worst / best | | " + " | ".join(f"{min(v):+.3f} / {max(v):+.3f}" for v in totals.values()) + " |")
