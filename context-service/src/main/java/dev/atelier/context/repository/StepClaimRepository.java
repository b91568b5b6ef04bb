package dev.atelier.context.repository;

import dev.atelier.context.model.ClaimState;
import dev.atelier.context.model.StepClaim;
import dev.atelier.context.model.StepRenewals;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;

/** Step-attempt leases ({@link StepClaim}) in PostgreSQL; each method is one statement. */
@ApplicationScoped
public class StepClaimRepository {

  private final DataSource dataSource;

  StepClaimRepository(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Takes or renews the lease: granted when the key is free, held by the same holder, or its lease
   * ran out (all by the database's clock). Otherwise answers who holds it until when.
   */
  public ClaimState claim(UUID workflowId, StepClaim claim) {
    try (Connection c = dataSource.getConnection()) {
      for (int round = 0; round < 2; round++) {
        try (PreparedStatement ps =
            c.prepareStatement(
                """
                insert into step_claim (workflow_id, claim_key, holder, expires_at)
                values (?, ?, ?, now() + make_interval(secs => ?))
                on conflict (workflow_id, claim_key) do update
                  set holder = excluded.holder,
                      expires_at = excluded.expires_at,
                      claimed_at = case when step_claim.holder = excluded.holder
                                        then step_claim.claimed_at else now() end
                  where step_claim.holder = excluded.holder or step_claim.expires_at <= now()
                returning expires_at
                """)) {
          ps.setObject(1, workflowId);
          ps.setString(2, claim.key());
          ps.setString(3, claim.holder());
          ps.setInt(4, claim.leaseSeconds());
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              return new ClaimState(
                  true, claim.holder(), rs.getObject(1, OffsetDateTime.class).toInstant());
            }
          }
        }
        try (PreparedStatement ps =
            c.prepareStatement(
                "select holder, expires_at from step_claim where workflow_id = ? and claim_key = ?")) {
          ps.setObject(1, workflowId);
          ps.setString(2, claim.key());
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              return new ClaimState(
                  false, rs.getString(1), rs.getObject(2, OffsetDateTime.class).toInstant());
            }
          }
        }
        // Released between the two statements: free now, so ask once more.
      }
      return new ClaimState(false, null, null);
    } catch (SQLException e) {
      throw new DataAccessException("step claim failed: " + e.getMessage(), e);
    }
  }

  /**
   * Renews each lease its holder still has (whether or not it ran out meanwhile), in one statement;
   * never creates one: a lease released, or taken by another since, stays so.
   *
   * @return the leases not renewed
   */
  public List<StepRenewals.Lease> renew(List<StepRenewals.Lease> leases, int leaseSeconds) {
    if (leases.isEmpty()) {
      return List.of();
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                """
                update step_claim c set expires_at = now() + make_interval(secs => ?)
                from unnest(?::uuid[], ?::text[], ?::text[]) as r(workflow_id, claim_key, holder)
                where c.workflow_id = r.workflow_id and c.claim_key = r.claim_key
                  and c.holder = r.holder
                returning c.workflow_id, c.claim_key, c.holder
                """)) {
      ps.setInt(1, leaseSeconds);
      ps.setArray(
          2,
          c.createArrayOf("uuid", leases.stream().map(StepRenewals.Lease::workflowId).toArray()));
      ps.setArray(
          3, c.createArrayOf("text", leases.stream().map(StepRenewals.Lease::key).toArray()));
      ps.setArray(
          4, c.createArrayOf("text", leases.stream().map(StepRenewals.Lease::holder).toArray()));
      Set<StepRenewals.Lease> renewed = new HashSet<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          renewed.add(
              new StepRenewals.Lease(
                  rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3)));
        }
      }
      return leases.stream().filter(l -> !renewed.contains(l)).toList();
    } catch (SQLException e) {
      throw new DataAccessException("step lease renewal failed: " + e.getMessage(), e);
    }
  }

  /** Ends the holder's lease; true when it held it. */
  public boolean release(UUID workflowId, String key, String holder) {
    return update(
            "delete from step_claim where workflow_id = ? and claim_key = ? and holder = ?",
            ps -> {
              ps.setObject(1, workflowId);
              ps.setString(2, key);
              ps.setString(3, holder);
            })
        > 0;
  }

  /** Deletes the leases that ran out longer than {@code ago} ago (their holders died). */
  public int deleteExpired(Duration ago) {
    return update(
        "delete from step_claim where expires_at < now() - make_interval(secs => ?)",
        ps -> ps.setLong(1, ago.toSeconds()));
  }

  private int update(String sql, Binder binder) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      binder.bind(ps);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw new DataAccessException("step claim update failed: " + e.getMessage(), e);
    }
  }

  @FunctionalInterface
  private interface Binder {
    void bind(PreparedStatement ps) throws SQLException;
  }
}
