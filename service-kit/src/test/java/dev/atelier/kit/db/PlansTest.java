package dev.atelier.kit.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.sql.PreparedStatement;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL side is covered where the statements are (OutboxDeletePlanTest, RecordSpoolTest,
 * BudgetScopesTest); here, what a statement that is not PostgreSQL's gets.
 */
class PlansTest {

  @Test
  void aStatementThatIsNotPostgreSqlsIsLeftAsItIs() throws Exception {
    PreparedStatement other =
        (PreparedStatement)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {PreparedStatement.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("isWrapperFor")) {
                    return false;
                  }
                  throw new java.sql.SQLException("not supported: " + method.getName());
                });

    assertThat(Plans.planEachExecution(other)).isSameAs(other);
  }
}
