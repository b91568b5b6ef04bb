-- One database per service (DESIGN.md: each service owns its data). Runs once, on an empty data volume.
-- The services create their database if it is missing and migrate it at start-up; this makes the layout
-- explicit and lets the services run as a user without CREATEDB later.
CREATE DATABASE atelier_orchestrator;
CREATE DATABASE atelier_gateway;
CREATE DATABASE atelier_context;
CREATE DATABASE atelier_tracking;
