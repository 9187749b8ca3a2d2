"""Each server's own configuration of Atelier: the typed settings and the cached service over them."""
