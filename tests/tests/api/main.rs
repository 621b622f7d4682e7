mod routes;
mod settings_and_startup;
