"""Running instances on SpiffWorkflow: stepping and state, task rows, messages and timers, in the sandbox."""
