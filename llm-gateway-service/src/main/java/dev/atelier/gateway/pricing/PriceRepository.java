package dev.atelier.gateway.pricing;

import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** Reads the price table. */
@ApplicationScoped
public class PriceRepository {

  private final DataSource dataSource;

  PriceRepository(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Every row, all versions. The table is small (one row per model and price change). */
  public List<Price> findAll() throws SQLException {
    String sql =
        "select provider, model, input_per_mtok, cached_input_per_mtok, output_per_mtok,"
            + " effective_from, version from price order by provider, model, effective_from";
    List<Price> prices = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        prices.add(
            new Price(
                rs.getString(1),
                rs.getString(2),
                rs.getBigDecimal(3),
                rs.getBigDecimal(4),
                rs.getBigDecimal(5),
                rs.getObject(6, OffsetDateTime.class).toInstant(),
                rs.getString(7)));
      }
    }
    return prices;
  }
}
