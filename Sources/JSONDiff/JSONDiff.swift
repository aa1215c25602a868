// JSONDiff: placeholder until its issue lands.
