"""The types every part shares: artifacts and their markers, parameter types, the error root, a task's
final status, ``dsl.TaskConfig``. Standard library only: they travel to pods in the runtime's zip."""
