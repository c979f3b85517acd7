"""Lineage: OpenLineage datasets and facets for every step, and output artifacts as Airflow Assets."""

from __future__ import annotations

from airflow_kfp.lineage.datasets import dataset_identity
from airflow_kfp.lineage.mixin import KfpLineageMixin
from airflow_kfp.spec.assets import output_asset_uri, parse_output_asset_uri

__all__ = ["KfpLineageMixin", "dataset_identity", "output_asset_uri", "parse_output_asset_uri"]
