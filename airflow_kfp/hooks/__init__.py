"""Artifact stores (not Airflow hooks): the only code that touches where artifacts live.

``factory.get_artifact_store(root)`` gives a local-folder store (``local_store``) or an S3 store
(``s3_store``, through boto3 and an Airflow connection); both stream in bounded memory and record a
digest per artifact. The package keeps the name ``hooks`` because Airflow providers conventionally
name their I/O layer so, and the provider info lists no hook class.
"""
