mod algorithms_and_attacks;
mod claims;
mod header;
mod jwks_cache;
mod routes;
mod scopes;
mod settings_and_startup;
mod tls;
