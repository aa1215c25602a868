// Shared helpers for StateTee's test targets (live servers, subprocesses, waiting on events).
