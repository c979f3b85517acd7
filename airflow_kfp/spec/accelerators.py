"""What ``set_accelerator_type(T)`` / ``set_accelerator_limit(N)`` ask of Kubernetes, as KFP v2 asks it.

KFP's backend (``backend/src/v2/driver/driver.go``, ``initPodSpecPatch``) uses the type itself as the
container's extended resource: ``resources.limits[T] = N`` (``nvidia.com/gpu``, ``amd.com/gpu``,
``google.com/tpu``...), with no node selector and no toleration; a limit without a type asks for
nothing. A type without a ``/`` is not a resource name Kubernetes accepts: the cloud names KFP users
write for Vertex AI (``NVIDIA_TESLA_T4``) or GKE (``nvidia-tesla-t4``) are looked up in
:data:`BUILTIN_ACCELERATORS` (extended, or overridden, by ``[kfp] accelerators``), which gives the
resource to count and the node labels that pick that model. The table is the one source of truth: the
pod spec, the "why is my pod pending" advice and the docs' table (``docs/guides/kubernetes.md``,
checked by a test) all read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from airflow_kfp.spec.labels import check_labels, extended_resource_problem

GKE_GPU_LABEL = "cloud.google.com/gke-accelerator"
GKE_TPU_LABEL = "cloud.google.com/gke-tpu-accelerator"
NVIDIA_GPU = "nvidia.com/gpu"
GOOGLE_TPU = "google.com/tpu"


@dataclass(frozen=True)
class Accelerator:
    """An accelerator model: the extended resource its count applies to, and the node labels that pick it."""

    resource: str
    node_selector: dict[str, str] = field(default_factory=dict)
    provider: str = ""

    def check(self, name: str) -> None:
        problem = extended_resource_problem(self.resource)
        if problem:
            raise ValueError(f"accelerator {name!r}: resource {problem}")
        check_labels(self.node_selector, f"accelerator {name!r} node selector")


def _gke_gpu(label: str, provider: str) -> Accelerator:
    return Accelerator(NVIDIA_GPU, {GKE_GPU_LABEL: label}, provider)


def _gke_tpu(label: str, provider: str) -> Accelerator:
    return Accelerator(GOOGLE_TPU, {GKE_TPU_LABEL: label}, provider)


_GKE_GPUS = {
    # Vertex AI's AcceleratorType names (what KFP pipelines written for Vertex pass) -> GKE's node label
    "NVIDIA_TESLA_K80": "nvidia-tesla-k80",
    "NVIDIA_TESLA_P100": "nvidia-tesla-p100",
    "NVIDIA_TESLA_V100": "nvidia-tesla-v100",
    "NVIDIA_TESLA_P4": "nvidia-tesla-p4",
    "NVIDIA_TESLA_T4": "nvidia-tesla-t4",
    "NVIDIA_TESLA_A100": "nvidia-tesla-a100",
    "NVIDIA_A100_80GB": "nvidia-a100-80gb",
    "NVIDIA_L4": "nvidia-l4",
    "NVIDIA_H100_80GB": "nvidia-h100-80gb",
    "NVIDIA_H100_MEGA_80GB": "nvidia-h100-mega-80gb",
    "NVIDIA_H200_141GB": "nvidia-h200-141gb",
    "NVIDIA_B200": "nvidia-b200",
    "NVIDIA_GB200": "nvidia-gb200",
    "NVIDIA_RTX_PRO_6000": "nvidia-rtx-pro-6000",
}
_GKE_TPUS = {
    "TPU_V4_POD": "tpu-v4-podslice",
    "TPU_V5_LITEPOD": "tpu-v5-lite-podslice",
    "TPU_V5P": "tpu-v5p-slice",
    "TPU_V6E": "tpu-v6e-slice",
}

BUILTIN_ACCELERATORS: dict[str, Accelerator] = {
    **{name: _gke_gpu(label, "Vertex AI / GKE") for name, label in _GKE_GPUS.items()},
    **{label: _gke_gpu(label, "GKE") for label in _GKE_GPUS.values()},
    **{name: _gke_tpu(label, "Vertex AI / GKE") for name, label in _GKE_TPUS.items()},
    **{label: _gke_tpu(label, "GKE") for label in _GKE_TPUS.values()},
}
"""Cloud accelerator names -> resource and node labels. A type containing ``/`` is used as KFP uses it
(the resource name itself, no selector) and is never looked up here."""


def parse_table(text: str) -> dict[str, Accelerator]:
    """``[kfp] accelerators``: a JSON object, name -> ``{"resource": ..., "node_selector": {...}}``."""
    if not text.strip():
        return {}
    example = '{"a100": {"resource": "nvidia.com/gpu", "node_selector": {"gpu-model": "a100"}}}'
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"[kfp] accelerators is not JSON ({exc}); write e.g. {example}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"[kfp] accelerators must be a JSON object; write e.g. {example}")
    table: dict[str, Accelerator] = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or set(entry) - {"resource", "node_selector"} or "resource" not in entry:
            raise ValueError(
                f"[kfp] accelerators: entry {name!r} must be an object with 'resource' and optionally "
                f"'node_selector'; write e.g. {example}"
            )
        selector = entry.get("node_selector") or {}
        if not isinstance(selector, dict) or not all(isinstance(v, str) for v in selector.values()):
            raise ValueError(f"[kfp] accelerators: entry {name!r}: node_selector must map label keys to strings")
        accelerator = Accelerator(str(entry["resource"]), {str(k): v for k, v in selector.items()}, "[kfp]")
        try:
            accelerator.check(name)
        except ValueError as exc:
            raise ValueError(f"[kfp] accelerators: {exc}") from None
        table[str(name)] = accelerator
    return table


def resolve(accelerator_type: str, table_text: str = "") -> Accelerator:
    """The resource and node labels for ``set_accelerator_type(accelerator_type)``.

    A name with ``/`` is the extended resource itself (KFP's semantics); any other name is looked up in
    ``[kfp] accelerators``, then the built-in table. ValueError says how to fix an unknown name.
    """
    if "/" in accelerator_type:
        problem = extended_resource_problem(accelerator_type)
        if problem:
            raise ValueError(f"set_accelerator_type({accelerator_type!r}): {problem}")
        return Accelerator(accelerator_type)
    found = parse_table(table_text).get(accelerator_type) or BUILTIN_ACCELERATORS.get(accelerator_type)
    if found is None:
        raise ValueError(
            f"set_accelerator_type({accelerator_type!r}): not a Kubernetes resource name and not a known "
            "accelerator model. Pass the device plugin's resource, as KFP does (e.g. 'nvidia.com/gpu', "
            "'amd.com/gpu', 'google.com/tpu'; choose the model with kubernetes.add_node_selector), or add "
            f"{accelerator_type!r} to [kfp] accelerators, e.g. "
            f'{{"{accelerator_type}": {{"resource": "nvidia.com/gpu", "node_selector": {{"gpu-model": "..."}}}}}}'
        )
    return found


def table_rows(table: dict[str, Accelerator] | None = None) -> list[tuple[str, str, str, str]]:
    """(name, resource, node selector, provider) rows, for the docs' table."""
    rows = []
    for name, acc in (table if table is not None else BUILTIN_ACCELERATORS).items():
        selector = ", ".join(f"{k}={v}" for k, v in acc.node_selector.items())
        rows.append((name, acc.resource, selector, acc.provider))
    return rows


def markdown_table() -> str:
    """The built-in table as docs/guides/kubernetes.md shows it (a test checks the guide matches)."""
    lines = ["| `set_accelerator_type(...)` | Resource | Node selector | Names from |", "|---|---|---|---|"]
    for name, resource, selector, provider in table_rows():
        lines.append(f"| `{name}` | `{resource}` | `{selector}` | {provider} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
