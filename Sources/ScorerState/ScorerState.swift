// ScorerState: placeholder until its issue lands.
