// Tee: placeholder until its issue lands.
