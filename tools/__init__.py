"""Development tools: the compatibility scan and fixture refresh (``compat``), and the import check
``make lint`` runs (``check_imports``). Nothing here is imported by the package or run as a test."""
