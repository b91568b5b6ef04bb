package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.assertProblem;
import static dev.atelier.context.rest.Artifacts.get;
import static dev.atelier.context.rest.Artifacts.markdown;
import static dev.atelier.context.rest.Artifacts.post;
import static org.assertj.core.api.Assertions.assertThat;

import dev.atelier.context.service.ProjectBundle;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;

@QuarkusTest
class BundleTest {

  private final UUID workflow = UUID.randomUUID();

  private static Map<String, Object> json(String name, Object content) {
    return Map.of("name", name, "kind", "json", "content", content);
  }

  private static Map<String, String> file(String path, String content) {
    return Map.of("path", path, "content", content);
  }

  @Test
  void zipLaysTheLatestArtifactsOutAsAProject() throws IOException {
    post(workflow, "a1", markdown("analysis.md", "# Analysis"));
    post(workflow, "c1", json("code", Map.of("files", List.of(file("app.py", "old")))));
    post(
        workflow,
        "c2",
        json(
            "code",
            Map.of(
                "files",
                List.of(
                    file("app.py", "print('v2')"), file("src/util/strings.py", "def s(): pass")),
                "notes",
                "second version")));
    post(workflow, "c3", markdown("code.md", "# Code"));
    post(
        workflow,
        "t1",
        json("test-plan", Map.of("cases", List.of(), "files", List.of(file("test_app.py", "t")))));
    post(
        workflow,
        "d1",
        json(
            "docs",
            Map.of("files", List.of(file("README.md", "# Readme"), file("guide/usage.md", "u")))));

    Response r = get("/api/v1/workflows/" + workflow + "/bundle");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.contentType()).isEqualTo("application/zip");
    assertThat(r.header("Content-Disposition"))
        .isEqualTo("attachment; filename=\"atelier-" + workflow + ".zip\"");
    Map<String, String> zip = unzip(r.asByteArray());
    assertThat(zip)
        .containsOnlyKeys(
            "docs/atelier/analysis.md",
            "docs/atelier/code.md",
            ".atelier/code.json",
            "src/app.py",
            "src/util/strings.py",
            ".atelier/test-plan.json",
            "tests/test_app.py",
            ".atelier/docs.json",
            "README.md",
            "docs/guide/usage.md");
    assertThat(zip.get("src/app.py")).isEqualTo("print('v2')");
    assertThat(zip.get("README.md")).isEqualTo("# Readme");
    assertThat(zip.get("docs/atelier/analysis.md")).isEqualTo("# Analysis");
    assertThat(zip.get(".atelier/code.json")).contains("\"notes\" : \"second version\"");
  }

  @Test
  void unsafePathsInAnArtifactNeverBecomeEntries() throws IOException {
    post(
        workflow,
        "c1",
        json(
            "code",
            Map.of(
                "files",
                List.of(
                    file("../../etc/cron.d/evil", "x"),
                    file("src/../../escape.sh", "x"),
                    file("/etc/passwd", "x"),
                    file("C:/Windows/evil.bat", "x"),
                    file("src\\..\\..\\evil.py", "x"),
                    file("src//double.py", "x"),
                    file("a/" + "b".repeat(300), "x"),
                    file("fine.py", "ok")))));

    Map<String, String> zip = unzip(get("/api/v1/workflows/" + workflow + "/bundle").asByteArray());

    assertThat(zip)
        .containsOnlyKeys(".atelier/code.json", "src/fine.py", ".atelier/bundle-skipped.txt");
    assertThat(zip.get(".atelier/bundle-skipped.txt").lines()).hasSize(7);
    assertThat(zip.get(".atelier/bundle-skipped.txt"))
        .contains("code@1 ../../etc/cron.d/evil: empty, . or .. segment")
        .contains("/etc/passwd: absolute path")
        .contains("backslash");
  }

  @Test
  void theSkipRecordListsTheFirstThousandFilesLeftOutAndCutsLongPaths() throws IOException {
    // Accepted as an artifact (under 1 MB), every entry left out of the bundle.
    List<Object> files = new java.util.ArrayList<>(java.util.Collections.nCopies(1_500, 0));
    files.add(0, file("/" + "x".repeat(5_000), "x"));
    post(workflow, "c1", json("code", Map.of("files", files)));

    Map<String, String> zip = unzip(get("/api/v1/workflows/" + workflow + "/bundle").asByteArray());

    List<String> record = zip.get(".atelier/bundle-skipped.txt").lines().toList();
    assertThat(record).hasSize(1_001);
    assertThat(record.get(0))
        .startsWith("code@1 /" + "x".repeat(199) + "\u2026 (5001 characters): ")
        .hasSizeLessThan(300);
    assertThat(record.get(1)).isEqualTo("code@1 : path and content must be strings");
    assertThat(record.get(1_000)).isEqualTo("... and 501 more left out");
  }

  @Test
  void aBundleHoldsAtMostTenThousandFilesAndListsTheRestAsLeftOut() throws IOException {
    // Two artifacts of 6,000 tiny files each (about 200 kB apiece): the zip's directory is kept in
    // memory until it ends, so its entries are bounded.
    for (String name : List.of("code", "test-plan")) {
      List<Object> files = new java.util.ArrayList<>();
      for (int i = 0; i < 6_000; i++) {
        files.add(file("f" + i, ""));
      }
      post(workflow, name, json(name, Map.of("files", files)));
    }

    Map<String, String> zip = unzip(get("/api/v1/workflows/" + workflow + "/bundle").asByteArray());

    // 10,000 entries (the two raw JSON artifacts among them) and the skip record.
    assertThat(zip).hasSize(ProjectBundle.MAX_ENTRIES + 1);
    List<String> record = zip.get(".atelier/bundle-skipped.txt").lines().toList();
    assertThat(record.get(0)).endsWith(": the bundle holds at most 10000 files");
    assertThat(record.get(record.size() - 1)).isEqualTo("... and 1002 more left out");
  }

  @Test
  void anArtifactNamedLikeTheSkipRecordNeitherReplacesNorHidesIt() throws IOException {
    post(
        workflow,
        "t1",
        Map.of("name", "bundle-skipped.txt", "kind", "text", "content", "all is well"));
    post(workflow, "c1", json("code", Map.of("files", List.of(file("/etc/passwd", "x")))));

    Map<String, String> zip = unzip(get("/api/v1/workflows/" + workflow + "/bundle").asByteArray());

    assertThat(zip).containsOnlyKeys(".atelier/code.json", ".atelier/bundle-skipped.txt");
    assertThat(zip.get(".atelier/bundle-skipped.txt").lines())
        .containsExactlyInAnyOrder(
            ".atelier/bundle-skipped.txt: the bundle keeps .atelier/bundle-skipped.txt for its"
                + " record of what was left out",
            "code@1 /etc/passwd: absolute path");
  }

  @Test
  void aWorkflowWithMoreArtifactsThanOnePageOfTheListIsBundledWhole() throws IOException {
    // 501 artifacts: the bundle lists them 500 at a time while writing.
    for (int batch = 0; batch < 51; batch++) {
      List<Map<String, Object>> artifacts = new java.util.ArrayList<>();
      for (int i = batch * 10; i < Math.min(501, batch * 10 + 10); i++) {
        artifacts.add(markdown(String.format("note-%03d", i), "# Note " + i));
      }
      Response written =
          Artifacts.postTo(
              "/api/v1/workflows/" + workflow + "/artifact-writes",
              "batch-" + batch,
              Map.of("artifacts", artifacts));
      assertThat(written.statusCode()).as(written.asString()).isEqualTo(201);
    }

    Map<String, String> zip = unzip(get("/api/v1/workflows/" + workflow + "/bundle").asByteArray());

    assertThat(zip).hasSize(501).containsEntry("docs/atelier/note-500.md", "# Note 500");
    assertThat(zip).containsEntry("docs/atelier/note-000.md", "# Note 0");
  }

  @Test
  void workflowWithoutArtifactsIs404ProblemJson() {
    Response r =
        io.restassured.RestAssured.given()
            .accept("application/zip, application/problem+json")
            .get("/api/v1/workflows/" + workflow + "/bundle")
            .andReturn();
    assertProblem(r, 404, "not-found");
  }

  /** Entry name to UTF-8 content; also checks no entry name could escape the extraction folder. */
  private static Map<String, String> unzip(byte[] bytes) throws IOException {
    Map<String, String> entries = new LinkedHashMap<>();
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(bytes))) {
      ZipEntry e;
      while ((e = in.getNextEntry()) != null) {
        assertThat(e.getName()).doesNotStartWith("/").doesNotContain("..").doesNotContain("\\");
        entries.put(e.getName(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    }
    return entries;
  }
}
