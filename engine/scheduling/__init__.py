"""Time: the Chinese working-day calendar, deadlines, scheduled starts and the worker that fires timers."""
