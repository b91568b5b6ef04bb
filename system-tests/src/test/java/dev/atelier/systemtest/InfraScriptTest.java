package dev.atelier.systemtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/local/infra.sh and reset-test-state.sh run by a user who is not root, on Debian, whose
 * rabbitmqctl refuses every user but root and rabbitmq: every rabbitmqctl call goes through sudo.
 * The machine's tools are stand-ins on the PATH that record how they were called.
 */
class InfraScriptTest {

  private static final Path LOCAL =
      ServiceProcess.root().toAbsolutePath().normalize().resolve("deploy/local");

  @Test
  void aUserWhoIsNotRootReachesRabbitMqThroughSudo(@TempDir Path dir) throws Exception {
    Path bin = fakeMachine(dir, 1000);
    Result result = run(bin, LOCAL.resolve("infra.sh"));
    assertThat(result.exitCode()).as(result.output()).isZero();
    List<String> calls = Files.readAllLines(dir.resolve("rabbitmqctl.calls"));
    assertThat(calls).isNotEmpty().allMatch(c -> c.startsWith("sudo "), "run through sudo");
    assertThat(calls).contains("sudo -q add_vhost atelier", "sudo -q add_vhost atelier-test-kit");

    Files.delete(dir.resolve("rabbitmqctl.calls"));
    result = run(bin, LOCAL.resolve("reset-test-state.sh"));
    assertThat(result.exitCode()).as(result.output()).isZero();
    assertThat(Files.readAllLines(dir.resolve("rabbitmqctl.calls")))
        .contains("sudo -q list_vhosts", "sudo -q delete_vhost atelier-test-gateway")
        .allMatch(c -> c.startsWith("sudo "), "run through sudo");
  }

  @Test
  void rootCallsRabbitmqctlItself(@TempDir Path dir) throws Exception {
    Path bin = fakeMachine(dir, 0);
    Result result = run(bin, LOCAL.resolve("infra.sh"));
    assertThat(result.exitCode()).as(result.output()).isZero();
    assertThat(Files.readAllLines(dir.resolve("rabbitmqctl.calls")))
        .contains("direct -q status", "direct -q add_vhost atelier-test-system")
        .noneMatch(c -> c.startsWith("sudo "));
  }

  /**
   * A PATH whose id says {@code uid}, whose sudo marks what it runs, whose rabbitmqctl refuses to
   * run unmarked for anyone but root (as Debian's wrapper does), with PostgreSQL up.
   */
  private static Path fakeMachine(Path dir, int uid) throws IOException {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    script(bin, "id", "[ \"$1\" = -u ] && { echo " + uid + "; exit 0; }\nexec /usr/bin/id \"$@\"");
    script(bin, "sudo", "export VIA_SUDO=1\nexec \"$@\"");
    script(
        bin,
        "rabbitmqctl",
        "if [ \""
            + uid
            + "\" != 0 ] && [ -z \"$VIA_SUDO\" ]; then\n"
            + "  echo 'Only root or rabbitmq should run rabbitmqctl' >&2; exit 1\nfi\n"
            + "how=direct; [ -z \"$VIA_SUDO\" ] || how=sudo\n"
            + "echo \"$how $*\" >> \""
            + dir.resolve("rabbitmqctl.calls")
            + "\"\n"
            + "case \"$*\" in *list_vhosts*) echo atelier-test-gateway ;; esac\nexit 0");
    for (String up : List.of("pg_isready", "psql", "pg_ctlcluster", "rabbitmq-server")) {
      script(bin, up, "exit 0");
    }
    return bin;
  }

  private static void script(Path bin, String name, String body) throws IOException {
    Path file = bin.resolve(name);
    Files.writeString(file, "#!/bin/bash\n" + body + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private record Result(int exitCode, String output) {}

  private static Result run(Path bin, Path script) throws IOException, InterruptedException {
    ProcessBuilder builder =
        new ProcessBuilder("bash", script.toString()).redirectErrorStream(true);
    builder.environment().put("PATH", bin + ":/usr/bin:/bin");
    builder.environment().remove("VIA_SUDO");
    Process process = builder.start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Result(
        process.exitValue(),
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip());
  }
}
