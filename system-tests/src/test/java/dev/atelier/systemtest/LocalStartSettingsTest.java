package dev.atelier.systemtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/local/java-opts.sh, which deploy/local/run.sh and the end-to-end benchmark source to start
 * each service as a process: its CPU priority (the public API first, the step path and the ledger
 * behind it) and its JVM flags, with their per-service and global overrides.
 */
class LocalStartSettingsTest {

  private static final Path JAVA_OPTS =
      ServiceProcess.root().toAbsolutePath().normalize().resolve("deploy/local/java-opts.sh");

  /** Every service but the orchestrator, which answers the public workflow API. */
  private static final List<String> STEP_PATH_AND_LEDGER =
      List.of("agent-worker-service", "context-service", "llm-gateway-service", "tracking-service");

  @Test
  void theApiKeepsTheDefaultPriorityAndTheStepPathRunsBehindIt() throws Exception {
    assertThat(nice("orchestrator-service", Map.of())).isEqualTo("0");
    for (String module : STEP_PATH_AND_LEDGER) {
      assertThat(nice(module, Map.of())).as(module).isEqualTo("10");
    }
  }

  @Test
  void oneServicesPriorityOverridesAllServicesOne() throws Exception {
    Map<String, String> env = Map.of("ATELIER_NICE", "5", "ATELIER_NICE_LLM_GATEWAY_SERVICE", "0");
    assertThat(nice("llm-gateway-service", env)).isEqualTo("0");
    assertThat(nice("agent-worker-service", env)).isEqualTo("5");
    assertThat(nice("orchestrator-service", env)).isEqualTo("5");
  }

  @Test
  void jvmFlagsHaveBoundedMemoryAndTheirOverridesInTheSameOrder() throws Exception {
    assertThat(run("atelier_java_opts llm-gateway-service", Map.of()))
        .contains("-Xmx128m", "-XX:+UseSerialGC", "-XX:MaxMetaspaceSize=");
    assertThat(run("atelier_java_opts orchestrator-service", Map.of())).contains("-Xmx160m");
    Map<String, String> env =
        Map.of("JAVA_OPTS", "-Xmx1g", "JAVA_OPTS_CONTEXT_SERVICE", "-Xmx300m -XX:+UseG1GC");
    assertThat(run("atelier_java_opts context-service", env)).isEqualTo("-Xmx300m -XX:+UseG1GC");
    assertThat(run("atelier_java_opts tracking-service", env)).isEqualTo("-Xmx1g");
  }

  @Test
  void theApiHasAYoungGenerationSizedSoABurstDoesNotPromoteItsRequests() throws Exception {
    assertThat(run("atelier_java_opts orchestrator-service", Map.of()))
        .contains("-Xms48m", "-Xmn16m", "-XX:SurvivorRatio=4", "-XX:+UseSerialGC");
    for (String module : STEP_PATH_AND_LEDGER) {
      assertThat(run("atelier_java_opts " + module, Map.of()))
          .as(module)
          .contains("-Xms32m", "-XX:+UseSerialGC")
          .doesNotContain("-Xmn", "SurvivorRatio");
    }
  }

  @Test
  void everyServiceHandsFreedNativeMemoryBackWhereTheJvmCan(@TempDir Path dir) throws Exception {
    Path knows = fakeJava(dir.resolve("knows"), "");
    Path older = fakeJava(dir.resolve("older"), "*TrimNativeHeapInterval*) exit 1 ;;");
    for (String module : STEP_PATH_AND_LEDGER) {
      assertThat(run("atelier_java_opts " + module, pathFirst(knows)))
          .as(module)
          .endsWith(" -XX:TrimNativeHeapInterval=5000");
      assertThat(run("atelier_java_opts " + module, pathFirst(older)))
          .as(module)
          .contains("-XX:+UseSerialGC")
          .doesNotContain("TrimNativeHeap");
    }
    assertThat(run("atelier_java_opts orchestrator-service", pathFirst(knows)))
        .contains("-Xmn16m", "-XX:TrimNativeHeapInterval=5000");
  }

  @Test
  void theJvmIsAskedOnceNotOncePerServiceStarted(@TempDir Path dir) throws Exception {
    Path knows = fakeJava(dir, "");
    String twiceMore =
        "for m in context-service tracking-service; do"
            + " bash -ec '. \"$1\"; atelier_java_opts \"$2\"' _ \"$1\" $m >/dev/null; done;"
            + " wc -l < \""
            + dir.resolve("calls")
            + "\"";
    assertThat(run(twiceMore, pathFirst(knows))).isEqualTo("1");
  }

  @Test
  void theTrimCanBeTurnedOffOrGivenAnotherIntervalButNothingElse(@TempDir Path dir)
      throws Exception {
    Map<String, String> path = pathFirst(fakeJava(dir, ""));
    assertThat(run("atelier_java_opts context-service", withTrim(path, "")))
        .contains("-XX:+UseSerialGC")
        .doesNotContain("TrimNativeHeap");
    assertThat(
            run(
                "atelier_java_opts context-service",
                withTrim(path, "-XX:TrimNativeHeapInterval=30000")))
        .endsWith(" -XX:TrimNativeHeapInterval=30000");
    assertThat(dir.resolve("calls")).as("java is not asked").doesNotExist();
    Result bad = start("atelier_java_opts context-service", withTrim(path, "-XX:+UseG1GC"));
    assertThat(bad.exitCode()).isEqualTo(2);
    assertThat(bad.output())
        .isEqualTo(
            "ATELIER_JVM_TRIM_FLAG=-XX:+UseG1GC: empty (no trim) or"
                + " -XX:TrimNativeHeapInterval=<milliseconds>");
  }

  private static Map<String, String> withTrim(Map<String, String> env, String flag) {
    Map<String, String> with = new HashMap<>(env);
    with.put("ATELIER_JVM_TRIM_FLAG", flag);
    return with;
  }

  /**
   * A java that records each call and exits 0, or 1 where its arguments match the case pattern (an
   * older JVM refusing a flag it does not know).
   */
  private static Path fakeJava(Path dir, String refuses) throws IOException {
    Files.createDirectories(dir);
    Path java = dir.resolve("java");
    Files.writeString(
        java,
        "#!/bin/sh\necho \"$*\" >> \""
            + dir.resolve("calls")
            + "\"\ncase \"$*\" in "
            + refuses
            + " esac\nexit 0\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    return dir;
  }

  private static Map<String, String> pathFirst(Path dir) {
    return Map.of("PATH", dir + ":" + System.getenv("PATH"));
  }

  @Test
  void aNiceValueThatIsNotOneStopsTheStartBeforeAnyServiceRuns() throws Exception {
    for (String bad : new String[] {"abc", "25", "-21", "1.5"}) {
      Result result =
          start("atelier_nice context-service", Map.of("ATELIER_NICE_CONTEXT_SERVICE", bad));
      assertThat(result.exitCode()).as(bad).isEqualTo(2);
      assertThat(result.output())
          .as(bad)
          .isEqualTo(
              "ATELIER_NICE_CONTEXT_SERVICE="
                  + bad
                  + ": a nice value is a whole number from -20 (first) to 19 (last)");
    }
    assertThat(nice("context-service", Map.of("ATELIER_NICE", "-20"))).isEqualTo("-20");
  }

  private static String nice(String module, Map<String, String> env) throws Exception {
    return run("atelier_nice " + module, env);
  }

  private static String run(String command, Map<String, String> env)
      throws IOException, InterruptedException {
    Result result = start(command, env);
    assertThat(result.exitCode()).as(result.output()).isZero();
    return result.output();
  }

  private record Result(int exitCode, String output) {}

  /**
   * Runs a command in a clean bash with -e (as run.sh and e2e.sh run) that sourced java-opts.sh,
   * with only the given settings.
   */
  private static Result start(String command, Map<String, String> env)
      throws IOException, InterruptedException {
    ProcessBuilder builder =
        new ProcessBuilder("bash", "-ec", ". \"$1\"; " + command, "bash", JAVA_OPTS.toString())
            .redirectErrorStream(true);
    builder
        .environment()
        .keySet()
        .removeIf(
            k ->
                k.startsWith("ATELIER_NICE")
                    || k.startsWith("ATELIER_JVM")
                    || k.startsWith("JAVA_OPTS"));
    builder.environment().putAll(env);
    Process process = builder.start();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String out =
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    return new Result(process.exitValue(), out);
  }
}
