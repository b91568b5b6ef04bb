package dev.atelier.worker.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class MarkdownRendererTest {

  private final MarkdownRenderer renderer = new MarkdownRenderer();
  private final ObjectMapper json = new ObjectMapper();

  @Test
  void rendersHeadingsListsAndCodeBlocks() throws Exception {
    String md =
        renderer.render(
            "source_code",
            "Written by developer",
            json.readTree(
                """
                {"summary":"Adds login",
                 "files":[{"path":"src/Login.java","language":"java",
                           "content":"class Login {\\n  // ```quoted```\\n}"}],
                 "openQuestions":["Which IdP?","MFA?"],
                 "acceptanceCriteria":[],
                 "notes":null}
                """));

    assertThat(md)
        .isEqualTo(
            """
            # Source code

            _Written by developer_

            **Summary:** Adds login

            ## Files

            ### src/Login.java

            #### Content

            ````java
            class Login {
              // ```quoted```
            }
            ````

            **Path:** src/Login.java

            ## Open questions

            - Which IdP?
            - MFA?

            ## Acceptance criteria

            _none_
            """);
  }

  @Test
  void labelsItemsByIdAndTitleAndFencesDiagrams() throws Exception {
    String md =
        renderer.render(
            "analysis",
            null,
            json.readTree(
                """
                {"stories":[{"id":"US-1","title":"Log in","priority":"high"}],
                 "diagram":"sequenceDiagram\\n  A->>B: hi"}
                """));

    assertThat(md)
        .contains("## Stories\n\n### US-1: Log in\n\n**Id:** US-1\n\n**Title:** Log in\n")
        .contains("## Diagram\n\n```mermaid\nsequenceDiagram\n  A->>B: hi\n```");
  }

  @Test
  void aLongLabelIsCutBetweenCharactersNotInsideOne() throws Exception {
    // An emoji (two UTF-16 units) where the 120-character label is cut: half of it alone could
    // not be stored, and the step's paid-for answer was refused by context-service.
    String title = "x".repeat(119) + "\uD83D\uDE80 launch";
    String md =
        renderer.render(
            "analysis",
            null,
            json.readTree("{\"stories\":[{\"id\":\"US-1\",\"title\":\"" + title + "\"}]}"));

    assertThat(md).contains("US-1: " + "x".repeat(119) + "...");
    // The full title keeps its emoji whole; no half of a pair is left anywhere.
    assertThat(md).contains("\uD83D\uDE80 launch");
    assertThat(md.codePoints().filter(c -> c >= 0xD800 && c <= 0xDFFF)).isEmpty();
  }

  @Test
  void humanizesKeys() {
    assertThat(MarkdownRenderer.humanize("acceptanceCriteria")).isEqualTo("Acceptance criteria");
    assertThat(MarkdownRenderer.humanize("non_functional-requirements"))
        .isEqualTo("Non functional requirements");
  }
}
