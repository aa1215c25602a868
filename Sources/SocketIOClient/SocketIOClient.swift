// SocketIOClient: placeholder until its issue lands.
