// Engine: placeholder until its issue lands.
