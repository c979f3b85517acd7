"""The test Kubernetes: an API server as strict as a real one, and kubelets that run pods as processes.

``api`` (HTTP, storage, the request path), ``validation`` (422s), ``rbac`` (authentication and
authorization from the chart's Role), ``admission`` (LimitRange, ServiceAccount, PodSecurity,
ResourceQuota), ``kubelet`` (scheduling and running pods), ``chart`` (the chart rendered without helm).
"""

from tests.kubernetes.fake.api import ADMIN, WORKER, FakeKubernetes, Fault, fake_cluster
from tests.kubernetes.fake.kubelet import Node

__all__ = ["ADMIN", "WORKER", "FakeKubernetes", "Fault", "Node", "fake_cluster"]
