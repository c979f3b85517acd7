"""Artifact stores (not Airflow hooks): the only code that touches where artifacts live.

``factory.get_artifact_store(root)`` gives a local-folder store (``local``) or an S3 store
(``s3``, through boto3 and an Airflow connection); both stream in bounded memory and record a
digest per artifact. The provider info lists no hook class: nothing here is an Airflow hook.
"""
