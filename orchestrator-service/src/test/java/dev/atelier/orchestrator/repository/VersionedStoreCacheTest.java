package dev.atelier.orchestrator.repository;

import static org.assertj.core.api.Assertions.assertThat;

import dev.atelier.orchestrator.model.AgentDefinition;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The cache of immutable definition versions stays bounded however many versions are read. */
@QuarkusTest
class VersionedStoreCacheTest {

  @Inject AgentRepository agents;
  @Inject DataSource dataSource;

  /** This test's roles: a million characters each, which every start would read otherwise. */
  private final List<String> names = new ArrayList<>();

  @AfterEach
  void deleteRoles() throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("delete from agent_definition where name = any(?)")) {
      ps.setArray(1, c.createArrayOf("text", names.toArray()));
      ps.executeUpdate();
    }
  }

  @Test
  void theVersionsUsedLongestAgoAreEvictedAndTheOnesInUseStay() {
    AgentDefinition base = agents.find("architect", 1).orElseThrow();
    String name = "lru-" + UUID.randomUUID().toString().substring(0, 8);
    names.add(name);
    for (int v = 1; v <= 8; v++) {
      agents.insert(name, v, described(base, name, v), "hash-" + v, "api");
    }

    // Version 1 is in use throughout (every step of a running workflow reads its role's version);
    // the others are read once each. With the 8th, just over a million characters each, the
    // cache is past its 8M bound and makes room.
    for (int v = 2; v <= 8; v++) {
      assertThat(agents.find(name, 1).orElseThrow().description()).startsWith("1:");
      assertThat(agents.find(name, v).orElseThrow().description()).startsWith(v + ":");
    }

    assertThat(agents.isCached(name, 1)).as("the version in use").isTrue();
    assertThat(agents.isCached(name, 8)).as("the version just read").isTrue();
    assertThat(agents.isCached(name, 2)).as("the version used longest ago").isFalse();
    assertThat(agents.cachedVersions()).isLessThanOrEqualTo(8);
  }

  @Test
  void versionsReadOnlyToListThemAreNotCached() {
    AgentDefinition base = agents.find("architect", 1).orElseThrow();
    String name = "listed-" + UUID.randomUUID().toString().substring(0, 8);
    names.add(name + "-a");
    names.add(name + "-b");
    agents.insert(name + "-a", 1, described(base, name + "-a", 1), "hash-a", "api");
    agents.insert(name + "-b", 1, described(base, name + "-b", 1), "hash-b", "api");

    VersionedStore.Page<AgentDefinition> page = agents.currentPage(name, 10);

    assertThat(page.items()).extracting(AgentDefinition::name).startsWith(name + "-a", name + "-b");
    assertThat(agents.isCached(name + "-a", 1)).isFalse();
    // Used, it is cached.
    agents.find(name + "-a", 1).orElseThrow();
    assertThat(agents.isCached(name + "-a", 1)).isTrue();
  }

  @Test
  void versionsPastTheCachedSizeAreEvictedAndReadAgain() {
    AgentDefinition base = agents.find("architect", 1).orElseThrow();
    String name = "cache-" + UUID.randomUUID().toString().substring(0, 8);
    names.add(name);
    int versions = 12;
    // Each version carries a description of a million characters: 12 are 12M, past the 8M bound.
    for (int v = 1; v <= versions; v++) {
      agents.insert(name, v, described(base, name, v), "hash-" + v, "api");
    }

    for (int v = 1; v <= versions; v++) {
      assertThat(agents.find(name, v).orElseThrow().description()).startsWith(v + ":");
    }

    // At most 8 of them fit: reading the 9th evicted the oldest.
    assertThat(agents.cachedVersions()).isLessThanOrEqualTo(8);
    // An evicted version is read again, whole.
    AgentDefinition first = agents.find(name, 1).orElseThrow();
    assertThat(first.description()).hasSize(1_000_000).startsWith("1:");
    assertThat(first.version()).isEqualTo(1);
  }

  private static AgentDefinition described(AgentDefinition base, String name, int version) {
    String description =
        version + ":" + "d".repeat(1_000_000 - String.valueOf(version).length() - 1);
    return new AgentDefinition(
        name,
        version,
        description,
        base.systemPrompt(),
        base.userPromptTemplate(),
        base.outputArtifact(),
        base.outputSchema(),
        base.model(),
        base.fallbackModels(),
        base.temperature(),
        base.maxTokens(),
        null);
  }
}
