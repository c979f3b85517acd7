"""Where a component's code runs: behind one ``ComponentRunner`` seam (``base``), a subprocess on the
worker (``local``) or a Kubernetes pod (``pod``), both handed the same task document."""
