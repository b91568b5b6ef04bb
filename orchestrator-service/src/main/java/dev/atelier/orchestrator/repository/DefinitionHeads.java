package dev.atelier.orchestrator.repository;

import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The latest version numbers of a workflow definition and of roles, read in one round trip and
 * without the definitions' bodies: those never change once versioned, so callers take them from the
 * stores' caches ({@link VersionedStore#find}).
 */
@Singleton
public class DefinitionHeads {

  /** The latest version of a name, retired or not. */
  public record Head(String name, int version, boolean retired) {}

  /**
   * @param workflow the definition's latest version, {@code null} when the name is unknown
   * @param agents the latest version of each asked role that exists
   */
  public record Heads(Head workflow, Map<String, Head> agents) {}

  private static final String AGENTS =
      "select 'agent' as kind, name, version, retired_at is not null as retired from ("
          + "select distinct on (name) name, version, retired_at from agent_definition"
          + " where name = any(?) order by name, version desc) a";

  private final DataSource dataSource;

  DefinitionHeads(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** The latest version of {@code workflow} and of each of {@code roles}. */
  public Heads find(String workflow, Collection<String> roles) {
    String sql =
        "select 'workflow' as kind, name, version, retired_at is not null as retired from ("
            + "select name, version, retired_at from workflow_definition where name = ?"
            + " order by version desc limit 1) w union all "
            + AGENTS;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, workflow);
      ps.setArray(2, c.createArrayOf("text", roles.toArray(String[]::new)));
      return read(ps);
    } catch (SQLException e) {
      throw Sql.failure("cannot read the current versions of " + workflow, e);
    }
  }

  /** The latest version of each of {@code roles} that exists. */
  public Map<String, Head> agents(Collection<String> roles) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(AGENTS)) {
      ps.setArray(1, c.createArrayOf("text", roles.toArray(String[]::new)));
      return read(ps).agents();
    } catch (SQLException e) {
      throw Sql.failure("cannot read the current versions of " + roles, e);
    }
  }

  private static Heads read(PreparedStatement ps) throws SQLException {
    Head workflow = null;
    Map<String, Head> agents = new HashMap<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Head head = new Head(rs.getString("name"), rs.getInt("version"), rs.getBoolean("retired"));
        if (rs.getString("kind").equals("workflow")) {
          workflow = head;
        } else {
          agents.put(head.name(), head);
        }
      }
    }
    return new Heads(workflow, agents);
  }
}
