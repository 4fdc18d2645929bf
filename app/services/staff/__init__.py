"""Staff sign-in and the signed-in sessions kept on the server, with customer mode on them."""
