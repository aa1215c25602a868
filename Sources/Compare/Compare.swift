// Compare: placeholder until its issue lands.
