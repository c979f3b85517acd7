"""The Airflow operators a pipeline becomes: component tasks (one family per runner) and the small
tasks control flow, importers, PVCs and the run's final state add. Where the code runs is the runners'
business (``airflow_kfp.runners``); what a try asks of the world goes through the services
(``airflow_kfp.services``, ``airflow_kfp.cache.service``, ``airflow_kfp.lineage``, ``airflow_kfp.stores``)."""
