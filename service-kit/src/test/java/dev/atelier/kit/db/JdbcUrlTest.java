package dev.atelier.kit.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class JdbcUrlTest {

  @Test
  void swapsTheDatabaseAndKeepsHostAndParameters() {
    JdbcUrl url =
        JdbcUrl.parse("jdbc:postgresql://db.internal:6432/atelier_gateway?sslmode=require");

    assertThat(url.database()).isEqualTo("atelier_gateway");
    assertThat(url.withDatabase("postgres"))
        .isEqualTo("jdbc:postgresql://db.internal:6432/postgres?sslmode=require");
    assertThat(url.hostPart()).isEqualTo("db.internal:6432");
  }

  @Test
  void refusesUrlsWithoutADatabase() {
    assertThatThrownBy(() -> JdbcUrl.parse("jdbc:postgresql://localhost:5432/"))
        .hasMessageContaining("names no database");
    assertThatThrownBy(() -> JdbcUrl.parse("jdbc:mysql://localhost/x"))
        .hasMessageContaining("jdbc:postgresql");
  }
}
