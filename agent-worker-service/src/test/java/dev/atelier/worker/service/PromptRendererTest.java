package dev.atelier.worker.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.atelier.contracts.AgentSpec;
import dev.atelier.worker.config.WorkerConfig;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PromptRendererTest {

  @Test
  void replacesPlaceholdersAndAppendsUnnamedInputs() {
    PromptRenderer renderer = new PromptRenderer(config(1000));
    RenderedPrompt prompt =
        renderer.render(
            agent("R={{requirement}} A={{ input:analysis }} X={{input:missing}} F={{feedback}}"),
            "build a shop",
            null,
            List.of(new LoadedInput("analysis", 2, "{a}"), new LoadedInput("notes", 1, "n")));

    assertThat(prompt.system()).isEqualTo("sys");
    assertThat(prompt.user())
        .isEqualTo("R=build a shop A={a} X=none F=none\n\n## Input notes@1\n\nn");
    assertThat(prompt.truncations()).isEmpty();
  }

  @Test
  void cutsTheLongestInputsFirstWithAVisibleMarker() {
    PromptRenderer renderer = new PromptRenderer(config(100));
    String big = "b".repeat(150);
    String medium = "m".repeat(60);
    String small = "s".repeat(10);
    RenderedPrompt prompt =
        renderer.render(
            agent("{{input:big}}|{{input:medium}}|{{input:small}}"),
            "r",
            "fix it",
            List.of(
                new LoadedInput("big", 1, big),
                new LoadedInput("medium", 1, medium),
                new LoadedInput("small", 1, small)));

    // 100 chars: small keeps its 10, the other two share 90 -> 45 each.
    assertThat(prompt.user())
        .isEqualTo(
            "b".repeat(45)
                + "\n[truncated 105 chars]|"
                + "m".repeat(45)
                + "\n[truncated 15 chars]|"
                + small);
    assertThat(prompt.truncations())
        .containsExactly("big@1 truncated by 105 chars", "medium@1 truncated by 15 chars");
  }

  @Test
  void onlyTheLongestIsCutWhenThatSuffices() {
    PromptRenderer renderer = new PromptRenderer(config(100));
    RenderedPrompt prompt =
        renderer.render(
            agent("{{input:big}}|{{input:small}}"),
            "r",
            null,
            List.of(new LoadedInput("big", 1, "b".repeat(95)), new LoadedInput("small", 1, "ss")));
    assertThat(prompt.user()).isEqualTo("b".repeat(95) + "|ss");

    prompt =
        renderer.render(
            agent("{{input:big}}|{{input:small}}"),
            "r",
            null,
            List.of(new LoadedInput("big", 1, "b".repeat(120)), new LoadedInput("small", 1, "ss")));
    assertThat(prompt.user()).isEqualTo("b".repeat(98) + "\n[truncated 22 chars]|ss");
  }

  private static AgentSpec agent(String template) {
    return new AgentSpec(
        "architect",
        1,
        "sys",
        template,
        "architecture",
        JsonNodeFactory.instance.objectNode(),
        "m",
        List.of(),
        null,
        null);
  }

  private static WorkerConfig config(int maxInputChars) {
    return new WorkerConfig() {
      @Override
      public List<String> roles() {
        return List.of("architect");
      }

      @Override
      public int prefetch() {
        return 1;
      }

      @Override
      public int concurrency() {
        return 1;
      }

      @Override
      public int maxInputChars() {
        return maxInputChars;
      }

      @Override
      public int repairAttempts() {
        return 2;
      }

      @Override
      public int endedWorkflows() {
        return 1;
      }

      @Override
      public java.time.Duration claimLease() {
        return java.time.Duration.ofSeconds(15);
      }

      @Override
      public Optional<Set<String>> jsonObjectModels() {
        return Optional.empty();
      }
    };
  }
}
