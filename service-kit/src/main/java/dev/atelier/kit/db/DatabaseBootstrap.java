package dev.atelier.kit.db;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.flywaydb.core.Flyway;
import org.jboss.logging.Logger;

/**
 * Creates the service's database when it is missing, then migrates it with Flyway, before any other
 * start-up work touches it. Flyway cannot create a database, so {@code
 * quarkus.flyway.migrate-at-start} stays off and this bean runs the migration itself. Two replicas
 * starting together are safe: a concurrent {@code CREATE DATABASE} fails with {@code
 * duplicate_database}, which is ignored, and Flyway serialises migrations with a lock.
 */
@ApplicationScoped
public class DatabaseBootstrap {

  private static final Logger LOG = Logger.getLogger(DatabaseBootstrap.class);
  private static final String DUPLICATE_DATABASE = "42P04";

  private final String url;
  private final Optional<String> username;
  private final Optional<String> password;
  private final Flyway flyway;

  DatabaseBootstrap(
      @ConfigProperty(name = "quarkus.datasource.jdbc.url") String url,
      @ConfigProperty(name = "quarkus.datasource.username") Optional<String> username,
      @ConfigProperty(name = "quarkus.datasource.password") Optional<String> password,
      Flyway flyway) {
    this.url = url;
    this.username = username;
    this.password = password;
    this.flyway = flyway;
  }

  void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event) {
    JdbcUrl jdbc = JdbcUrl.parse(url);
    createIfMissing(jdbc);
    var result = flyway.migrate();
    LOG.infof(
        "database %s at schema version %s (%d migrations applied)",
        jdbc.database(),
        flyway.info().current() == null ? "-" : flyway.info().current().getVersion(),
        result.migrationsExecuted);
  }

  private void createIfMissing(JdbcUrl jdbc) {
    try (Connection c =
            DriverManager.getConnection(
                jdbc.withDatabase("postgres"), username.orElse(null), password.orElse(null));
        PreparedStatement exists =
            c.prepareStatement("select 1 from pg_database where datname = ?")) {
      exists.setString(1, jdbc.database());
      try (ResultSet rs = exists.executeQuery()) {
        if (rs.next()) {
          return;
        }
      }
      try (Statement create = c.createStatement()) {
        create.execute("create database \"" + jdbc.database().replace("\"", "\"\"") + "\"");
        LOG.infof("created database %s", jdbc.database());
      }
    } catch (SQLException e) {
      if (!DUPLICATE_DATABASE.equals(e.getSQLState())) {
        throw new IllegalStateException(
            "cannot create database "
                + jdbc.database()
                + " at "
                + jdbc.hostPart()
                + ": "
                + e.getMessage(),
            e);
      }
    }
  }
}
