"""The experiments JSON API from a notebook: the best run of a sweep."""

from __future__ import annotations

from typing import Any


# best-run:begin
def best_run(base_url: str, token: str, experiment: str, metric: str = "train/accuracy") -> dict[str, Any]:
    import httpx

    api = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
    runs = api.get("/kfp/api/experiment-runs", params={"experiment": experiment}).json()["runs"]
    best = max(runs, key=lambda r: r["metrics"].get(metric, float("-inf")))
    print(best["run_id"], best["params"], best["metrics"].get(metric))
    return best


# best-run:end
