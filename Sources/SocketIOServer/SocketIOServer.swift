// SocketIOServer: placeholder until its issue lands.
