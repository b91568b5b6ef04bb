package dev.atelier.gateway.managed;

import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** The {@code managed_provider} table. */
@ApplicationScoped
public class ManagedProviderRepository {

  private static final String COLUMNS =
      "name, base_url, api_key_encrypted, status, status_reason, checked_at, revision, updated_at";

  private final DataSource dataSource;

  ManagedProviderRepository(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  public List<ManagedProvider> findAll() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("select " + COLUMNS + " from managed_provider order by name");
        ResultSet rs = ps.executeQuery()) {
      List<ManagedProvider> all = new ArrayList<>();
      while (rs.next()) {
        all.add(row(rs));
      }
      return all;
    }
  }

  public Optional<ManagedProvider> find(String name) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("select " + COLUMNS + " from managed_provider where name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(row(rs)) : Optional.empty();
      }
    }
  }

  /** Inserts a provider as {@code pending}; empty when the name is taken. */
  public Optional<ManagedProvider> insert(String name, String baseUrl, byte[] sealedKey)
      throws SQLException {
    String sql =
        "insert into managed_provider (name, base_url, api_key_encrypted, status)"
            + " values (?, ?, ?, 'pending') on conflict (name) do nothing returning "
            + COLUMNS;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, name);
      ps.setString(2, baseUrl);
      ps.setBytes(3, sealedKey);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(row(rs)) : Optional.empty();
      }
    }
  }

  /**
   * Changes the base URL and/or the key (null keeps the stored one), back to {@code pending} with a
   * new revision; empty when there is no such provider.
   */
  public Optional<ManagedProvider> update(String name, String baseUrl, byte[] sealedKey)
      throws SQLException {
    String sql =
        "update managed_provider set base_url = coalesce(?, base_url),"
            + " api_key_encrypted = coalesce(?, api_key_encrypted), status = 'pending',"
            + " status_reason = null, revision = revision + 1, updated_at = now()"
            + " where name = ? returning "
            + COLUMNS;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, baseUrl);
      ps.setBytes(2, sealedKey);
      ps.setString(3, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(row(rs)) : Optional.empty();
      }
    }
  }

  /** Stores a validation result, unless the provider changed since the check started. */
  public void status(String name, long revision, String status, String reason) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "update managed_provider set status = ?, status_reason = ?, checked_at = now()"
                    + " where name = ? and revision = ?")) {
      ps.setString(1, status);
      ps.setString(2, reason);
      ps.setString(3, name);
      ps.setLong(4, revision);
      ps.executeUpdate();
    }
  }

  public boolean delete(String name) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("delete from managed_provider where name = ?")) {
      ps.setString(1, name);
      return ps.executeUpdate() > 0;
    }
  }

  private static ManagedProvider row(ResultSet rs) throws SQLException {
    OffsetDateTime checked = rs.getObject(6, OffsetDateTime.class);
    return new ManagedProvider(
        rs.getString(1),
        rs.getString(2),
        rs.getBytes(3),
        rs.getString(4),
        rs.getString(5),
        checked == null ? null : checked.toInstant(),
        rs.getLong(7),
        rs.getObject(8, OffsetDateTime.class).toInstant());
  }
}
