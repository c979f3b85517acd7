"""The Kubernetes runner's pieces: the pod's arguments, the artifacts' way in and out through presigned
URLs, the runtime zip the pod imports, and why a pod did not run."""
