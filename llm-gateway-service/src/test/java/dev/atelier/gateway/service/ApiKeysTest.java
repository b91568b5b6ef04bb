package dev.atelier.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ApiKeysTest {

  private final ApiKeys keys = new ApiKeys(ApiKeys.parse("sk-team-a=team-a,sk-service=*"));

  @Test
  void aTeamKeyIsItsTeam() {
    assertThat(keys.authenticate("Bearer sk-team-a", null)).isEqualTo("team-a");
    assertThat(keys.authenticate("bearer sk-team-a", "team-a")).isEqualTo("team-a");
  }

  @Test
  void aServiceKeyActsForTheTeamItNamesOrForDefault() {
    assertThat(keys.authenticate("Bearer sk-service", "shop")).isEqualTo("shop");
    assertThat(keys.authenticate("Bearer sk-service", " shop.eu_1 ")).isEqualTo("shop.eu_1");
    assertThat(keys.authenticate("Bearer sk-service", null)).isEqualTo("default");
    assertThat(keys.authenticate("Bearer sk-service", "")).isEqualTo("default");
  }

  @Test
  void aTeamKeyCannotActForAnotherTeam() {
    assertThatThrownBy(() -> keys.authenticate("Bearer sk-team-a", "team-b"))
        .isInstanceOfSatisfying(
            GatewayException.class,
            e -> {
              assertThat(e.status()).isEqualTo(403);
              assertThat(e.getMessage()).contains("team-a").contains("team-b");
            });
  }

  @Test
  void aMalformedTeamNameIsRefusedWithoutEchoingTheKey() {
    for (String bad : new String[] {"-leading", "a b", "x".repeat(65), "team/../x"}) {
      assertThatThrownBy(() -> keys.authenticate("Bearer sk-service", bad))
          .isInstanceOfSatisfying(
              GatewayException.class,
              e -> {
                assertThat(e.status()).isEqualTo(400);
                assertThat(e.getMessage()).contains("X-Atelier-Team").doesNotContain("sk-service");
              });
    }
  }

  @Test
  void unknownKeysAreRefused() {
    assertThatThrownBy(() -> keys.authenticate("Bearer sk-nope", "shop"))
        .isInstanceOfSatisfying(GatewayException.class, e -> assertThat(e.status()).isEqualTo(401));
  }
}
