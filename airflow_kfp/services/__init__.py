"""What a component try asks at run time, whatever runs it: inputs resolved from their bindings
(``resolver``), a nested loop's collected values, a ``dsl.TaskConfig`` input's value."""
