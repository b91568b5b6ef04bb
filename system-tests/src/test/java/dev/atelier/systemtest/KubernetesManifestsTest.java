package dev.atelier.systemtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.atelier.contracts.Topology;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The manifests under k8s/ without a cluster: every YAML document is a valid Kubernetes object (or
 * a kustomization or JSON patch), and the base as kustomize would render it has probes, resources,
 * a non-root and unprivileged security context, a disruption budget per Deployment, and autoscaling
 * that matches the RabbitMQ topology. If kubectl is installed the overlays are rendered with {@code
 * kubectl kustomize} and checked too.
 */
class KubernetesManifestsTest {

  private static final List<String> SERVICES =
      List.of(
          "orchestrator-service",
          "agent-worker-service",
          "llm-gateway-service",
          "context-service",
          "tracking-service");

  private static final YAMLMapper YAML = new YAMLMapper();
  private static final KubernetesSerialization KUBE = new KubernetesSerialization();
  private static final Path ROOT = ServiceProcess.root().toAbsolutePath().normalize();
  private static final Path K8S = ROOT.resolve("k8s");

  /** What a service's JVM needs beside its heap: ~190 MB measured, and a margin. */
  private static final double NON_HEAP_MIB = 200;

  private static final Pattern PLACEHOLDER = Pattern.compile("^$|.*CHANGE_ME.*");

  @Test
  void everyDocumentIsAKubernetesObjectAKustomizationOrAJsonPatch() {
    List<Path> files = yamlFiles();
    assertThat(files).isNotEmpty();
    for (Path file : files) {
      List<JsonNode> docs = documents(file);
      assertThat(docs).as(rel(file)).isNotEmpty();
      for (JsonNode doc : docs) {
        if (doc.isArray()) {
          for (JsonNode op : doc) {
            assertThat(op.path("op").asText())
                .as(rel(file))
                .isIn("add", "replace", "remove", "test", "move", "copy");
            assertThat(op.path("path").asText()).as(rel(file)).startsWith("/");
          }
          continue;
        }
        if (isKustomization(doc)) {
          continue;
        }
        HasMetadata object = toObject(doc);
        assertThat(object.getMetadata().getName()).as(rel(file)).isNotBlank();
        if (object instanceof GenericKubernetesResource) {
          // Only KEDA's custom resources are not in the Kubernetes model.
          assertThat(object.getApiVersion())
              .as(rel(file) + " " + object.getKind())
              .startsWith("keda.sh/");
        }
      }
    }
  }

  @Test
  void everyServiceWithQuarkusKubernetesHasItsGeneratedManifestInTheBase() throws IOException {
    List<String> baseResources = strings(kustomization(K8S.resolve("base")).path("resources"));
    int generated = 0;
    for (String service : SERVICES) {
      boolean usesExtension =
          Files.readString(ROOT.resolve(service).resolve("pom.xml"))
              .contains("<artifactId>quarkus-kubernetes</artifactId>");
      Path manifest = K8S.resolve("base").resolve(service + ".yml");
      assertThat(Files.exists(manifest))
          .as("%s: k8s/generate.sh output present iff the pom has quarkus-kubernetes", service)
          .isEqualTo(usesExtension);
      assertThat(baseResources.contains(service + ".yml"))
          .as("k8s/base/kustomization.yaml lists %s.yml", service)
          .isEqualTo(usesExtension);
      if (usesExtension) {
        generated++;
        Deployment deployment = deployment(objects(documents(manifest)), service);
        assertThat(deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
            .endsWith("atelier/" + service + ":" + projectVersion());
      }
    }
    assertThat(generated).isGreaterThanOrEqualTo(3);
  }

  @Test
  void everyDeploymentIsProbedBoundedAndUnprivileged() {
    List<HasMetadata> base = renderBase();
    List<Deployment> deployments = ofType(base, Deployment.class);
    assertThat(deployments).isNotEmpty();
    checkDeployments(base, deployments);
  }

  @Test
  void everyDeploymentHasADisruptionBudgetAndEveryServiceABudget() {
    List<HasMetadata> base = renderBase();
    List<PodDisruptionBudget> budgets = ofType(base, PodDisruptionBudget.class);
    for (PodDisruptionBudget pdb : budgets) {
      assertThat(
              pdb.getSpec().getMinAvailable() != null || pdb.getSpec().getMaxUnavailable() != null)
          .as("PDB %s sets minAvailable or maxUnavailable", pdb.getMetadata().getName())
          .isTrue();
    }
    assertThat(budgets.stream().map(p -> p.getMetadata().getName()))
        .containsExactlyInAnyOrderElementsOf(SERVICES);
    checkBudgets(ofType(base, Deployment.class), budgets);
  }

  @Test
  void kedaScalesTheWorkerOnEveryStepQueueWithTheSecretsUrl() throws IOException {
    Path component = K8S.resolve("components/keda");
    List<HasMetadata> objects = new ArrayList<>();
    for (String resource : strings(kustomization(component).path("resources"))) {
      objects.addAll(objects(documents(component.resolve(resource))));
    }
    GenericKubernetesResource scaled = single(objects, "ScaledObject");
    Map<String, Object> spec = map(scaled.getAdditionalProperties().get("spec"));
    Map<String, Object> target = map(spec.get("scaleTargetRef"));
    assertThat(target.get("name")).isEqualTo("agent-worker-service");
    assertThat(target.getOrDefault("kind", "Deployment")).isEqualTo("Deployment");
    // The target is a Deployment the base really defines.
    deployment(renderBase(), "agent-worker-service");
    assertThat(((Number) spec.get("maxReplicaCount")).intValue())
        .isGreaterThan(((Number) spec.get("minReplicaCount")).intValue());

    GenericKubernetesResource auth = single(objects, "TriggerAuthentication");
    List<String> queues = new ArrayList<>();
    for (Object t : (List<?>) spec.get("triggers")) {
      Map<String, Object> trigger = map(t);
      assertThat(trigger.get("type")).isEqualTo("rabbitmq");
      Map<String, Object> metadata = map(trigger.get("metadata"));
      assertThat(metadata.get("mode")).isEqualTo("QueueLength");
      assertThat(Integer.parseInt((String) metadata.get("value"))).isPositive();
      assertThat(map(trigger.get("authenticationRef")).get("name"))
          .isEqualTo(auth.getMetadata().getName());
      queues.add((String) metadata.get("queueName"));
    }
    assertThat(queues)
        .containsExactlyInAnyOrderElementsOf(
            workerRoles().stream().map(r -> Topology.stepQueue(r).name()).toList());

    List<?> refs = (List<?>) map(auth.getAdditionalProperties().get("spec")).get("secretTargetRef");
    assertThat(refs).hasSize(1);
    Map<String, Object> ref = map(refs.get(0));
    assertThat(ref.get("parameter")).isEqualTo("host");
    assertThat(ref.get("name")).isEqualTo("atelier-secrets");
    assertThat(secretTemplate().getStringData()).containsKey((String) ref.get("key"));
    assertThat(secretTemplate().getStringData().get((String) ref.get("key")))
        .startsWith("amqp://")
        .endsWith("/" + "atelier");
  }

  @Test
  void theGatewayScalesOnCpuAndTheWorkerHpaIsAnAlternativeToKeda() throws IOException {
    HorizontalPodAutoscaler gateway =
        ofType(renderBase(), HorizontalPodAutoscaler.class).stream()
            .filter(h -> h.getSpec().getScaleTargetRef().getName().equals("llm-gateway-service"))
            .findFirst()
            .orElseThrow();
    assertThat(gateway.getSpec().getMetrics().get(0).getResource().getName()).isEqualTo("cpu");
    assertThat(gateway.getSpec().getMaxReplicas())
        .isGreaterThan(gateway.getSpec().getMinReplicas());

    Path component = K8S.resolve("components/worker-hpa");
    List<HasMetadata> hpaObjects = new ArrayList<>();
    for (String resource : strings(kustomization(component).path("resources"))) {
      hpaObjects.addAll(objects(documents(component.resolve(resource))));
    }
    HorizontalPodAutoscaler worker = ofType(hpaObjects, HorizontalPodAutoscaler.class).get(0);
    assertThat(worker.getSpec().getScaleTargetRef().getName()).isEqualTo("agent-worker-service");

    for (Path dir : kustomizationDirs()) {
      List<String> components = strings(kustomization(dir).path("components"));
      assertThat(components.stream().filter(c -> c.endsWith("/keda") || c.endsWith("/worker-hpa")))
          .as("%s uses at most one worker autoscaler", rel(dir))
          .hasSizeLessThanOrEqualTo(1);
    }
  }

  @Test
  void everyFileAKustomizationNamesExists() {
    List<Path> dirs = kustomizationDirs();
    assertThat(dirs.stream().map(this::rel))
        .contains("k8s/base", "k8s/overlays/dev", "k8s/overlays/prod", "k8s/components/keda");
    for (Path dir : dirs) {
      JsonNode k = kustomization(dir);
      for (String resource : strings(k.path("resources"))) {
        Path path = dir.resolve(resource).normalize();
        assertThat(
                Files.isRegularFile(path)
                    || Files.isRegularFile(path.resolve("kustomization.yaml")))
            .as("%s: resource %s", rel(dir), resource)
            .isTrue();
      }
      for (String component : strings(k.path("components"))) {
        assertThat(dir.resolve(component).resolve("kustomization.yaml"))
            .as("%s: component %s", rel(dir), component)
            .isRegularFile();
      }
      for (JsonNode patch : k.path("patches")) {
        if (patch.has("path")) {
          // kustomize refuses files outside the kustomization's own directory.
          Path path = dir.resolve(patch.path("path").asText()).normalize();
          assertThat(path).as("%s: patch", rel(dir)).isRegularFile();
          assertThat(path.startsWith(dir)).as("%s: patch %s inside", rel(dir), path).isTrue();
        }
      }
    }
  }

  @Test
  void secretsHoldOnlyPlaceholdersAndNoKustomizationAppliesTheTemplate() throws IOException {
    int secrets = 0;
    for (Path file : yamlFiles()) {
      for (HasMetadata object : objects(documents(file))) {
        if (object instanceof Secret secret) {
          secrets++;
          Map<String, String> values = new LinkedHashMap<>();
          if (secret.getStringData() != null) {
            values.putAll(secret.getStringData());
          }
          if (secret.getData() != null) {
            secret
                .getData()
                .forEach(
                    (k, v) ->
                        values.put(
                            k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
          }
          values.forEach((k, v) -> assertThat(v).as("%s %s", rel(file), k).matches(PLACEHOLDER));
        }
      }
    }
    assertThat(secrets).isPositive();
    for (Path dir : kustomizationDirs()) {
      assertThat(Files.readString(dir.resolve("kustomization.yaml")))
          .doesNotContain("atelier-secrets.template")
          .doesNotContain("secretGenerator");
    }
    // Every secret a Deployment reads is in the template.
    for (Deployment d : ofType(renderBase(), Deployment.class)) {
      for (EnvVar env : container(d).getEnv()) {
        if (env.getValueFrom() != null && env.getValueFrom().getSecretKeyRef() != null) {
          assertThat(env.getValueFrom().getSecretKeyRef().getName()).isEqualTo("atelier-secrets");
          assertThat(secretTemplate().getStringData())
              .as(d.getMetadata().getName())
              .containsKey(env.getValueFrom().getSecretKeyRef().getKey());
        }
      }
    }
  }

  /**
   * The heap the image lets the JVM take (-XX:MaxRAMPercentage of the pod's memory limit) leaves
   * room for the rest of the JVM: about 190 MB of an orchestrator's RSS under load is not heap
   * (metaspace, code, compiler arenas, symbols, thread stacks, libraries; native memory tracking in
   * docs/benchmarks/end-to-end.md), and a pod above its limit is killed, not collected.
   */
  @Test
  void theHeapAnImageAllowsLeavesRoomForTheRestOfTheJvmUnderThePodsMemoryLimit()
      throws IOException {
    Pattern percentage = Pattern.compile("-XX:MaxRAMPercentage=(\\d+(?:\\.\\d+)?)");
    List<Deployment> deployments = ofType(renderBase(), Deployment.class);
    assertThat(deployments).hasSize(SERVICES.size());
    for (Deployment d : deployments) {
      String service = d.getMetadata().getName();
      String javaOpts = javaOpts(d);
      Matcher m = percentage.matcher(javaOpts);
      assertThat(m.find()).as("%s sets -XX:MaxRAMPercentage", service).isTrue();
      double limitMib =
          Quantity.getAmountInBytes(container(d).getResources().getLimits().get("memory"))
                  .doubleValue()
              / (1024 * 1024);
      double heapMib = limitMib * Double.parseDouble(m.group(1)) / 100;
      assertThat(limitMib - heapMib)
          .as(
              "%s: MiB left beside a %.0f MiB heap under a %.0f MiB limit",
              service, heapMib, limitMib)
          .isGreaterThanOrEqualTo(NON_HEAP_MIB);
    }
  }

  /**
   * Every image's JVM hands freed native memory (compiler arenas, direct buffers) back to the OS,
   * as deploy/local does: without it a service's RSS keeps its peak and sits 10-26 MB nearer the
   * pod's limit (docs/benchmarks/end-to-end.md). A manifest that sets JAVA_OPTS replaces the
   * image's, so it would have to carry the flag too.
   */
  @Test
  void everyImageHandsFreedNativeMemoryBackToTheOs() throws IOException {
    for (Deployment d : ofType(renderBase(), Deployment.class)) {
      String service = d.getMetadata().getName();
      String javaOpts = javaOpts(d);
      assertThat(javaOpts).as(service).containsPattern("-XX:TrimNativeHeapInterval=[1-9]");
    }
  }

  /** The JVM flags a deployment's container starts with: its JAVA_OPTS, else its image's. */
  private static String javaOpts(Deployment d) throws IOException {
    String service = d.getMetadata().getName();
    return container(d).getEnv().stream()
        .filter(e -> e.getName().equals("JAVA_OPTS"))
        .map(EnvVar::getValue)
        .findFirst()
        .orElse(Files.readString(ROOT.resolve(service).resolve("src/main/docker/Dockerfile.jvm")));
  }

  /**
   * A worker being removed (scale-down, rollout) drains its running steps, and a step's LLM call
   * may take the gateway client's whole timeout: the drain covers it and Kubernetes waits longer
   * than the drain before it kills. Otherwise a scale-down kills steps whose answer was already
   * paid for, and their redelivery pays again.
   */
  @Test
  void aWorkerFinishesItsRunningStepsBeforeKubernetesKillsIt() throws IOException {
    drainsLongerThanOneCall(
        "agent-worker-service", "quarkus.langchain4j.openai.timeout", renderBase());
  }

  /**
   * A gateway being removed finishes the calls it serves: its HTTP drain covers a whole provider
   * call and Kubernetes waits longer than the drain. Otherwise the caller's retry pays again for an
   * answer already paid for, and the cut-off call's record is lost.
   */
  @Test
  void aGatewayFinishesTheCallsItServesBeforeKubernetesKillsIt() throws IOException {
    drainsLongerThanOneCall("llm-gateway-service", "gateway.openai.timeout", renderBase());
  }

  private static void drainsLongerThanOneCall(
      String service, String callTimeoutKey, List<HasMetadata> rendered) throws IOException {
    Deployment d = deployment(rendered, service);
    Duration drain =
        duration(
            container(d).getEnv().stream()
                .filter(e -> e.getName().equals("SHUTDOWN_TIMEOUT"))
                .map(EnvVar::getValue)
                .findFirst()
                .orElse(propertyDefault(service, "quarkus.shutdown.timeout")));
    assertThat(drain)
        .as("%s SHUTDOWN_TIMEOUT", service)
        .isGreaterThan(duration(propertyDefault(service, callTimeoutKey)));
    Long grace = d.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
    assertThat(grace == null ? 30 : grace)
        .as("%s terminationGracePeriodSeconds", service)
        .isGreaterThanOrEqualTo(drain.plusSeconds(10).toSeconds());
  }

  /** The default of a ${VARIABLE:default} setting in a service's application.properties. */
  private static String propertyDefault(String service, String key) throws IOException {
    Matcher m =
        Pattern.compile("(?m)^" + Pattern.quote(key) + "=\\$\\{[A-Z_]+:([^}]+)}$")
            .matcher(
                Files.readString(
                    ROOT.resolve(service).resolve("src/main/resources/application.properties")));
    assertThat(m.find()).as("%s in %s", key, service).isTrue();
    return m.group(1);
  }

  private static Duration duration(String quarkus) {
    return Duration.parse("PT" + quarkus.toUpperCase(java.util.Locale.ROOT));
  }

  @Test
  void overlaysRenderWithKubectlAndKeepTheChecks() throws Exception {
    assumeThat(kubectl()).as("kubectl on PATH").isTrue();
    for (String overlay : List.of("dev", "prod", "prod-hpa")) {
      List<HasMetadata> rendered = objects(kustomize(K8S.resolve("overlays").resolve(overlay)));
      List<Deployment> deployments = ofType(rendered, Deployment.class);
      assertThat(deployments).as(overlay).isNotEmpty();
      checkDeployments(rendered, deployments);
      checkBudgets(deployments, ofType(rendered, PodDisruptionBudget.class));
      boolean keda = rendered.stream().anyMatch(o -> o.getKind().equals("ScaledObject"));
      boolean workerHpa =
          ofType(rendered, HorizontalPodAutoscaler.class).stream()
              .anyMatch(
                  h -> h.getSpec().getScaleTargetRef().getName().equals("agent-worker-service"));
      Deployment worker = deployment(rendered, "agent-worker-service");
      switch (overlay) {
        case "dev" -> {
          assertThat(keda || workerHpa).as("dev autoscales the worker").isFalse();
          deployments.forEach(d -> assertThat(d.getSpec().getReplicas()).isEqualTo(1));
        }
        case "prod" -> {
          assertThat(keda).isTrue();
          assertThat(workerHpa).isFalse();
          assertThat(worker.getSpec().getReplicas()).as("KEDA owns the replicas").isNull();
        }
        default -> {
          assertThat(keda).isFalse();
          assertThat(workerHpa).isTrue();
          assertThat(worker.getSpec().getReplicas()).as("the HPA owns the replicas").isNull();
        }
      }
    }
  }

  // --- checks shared by the base and the rendered overlays

  private void checkDeployments(List<HasMetadata> objects, List<Deployment> deployments) {
    Map<String, ConfigMap> configMaps = new LinkedHashMap<>();
    for (ConfigMap c : ofType(objects, ConfigMap.class)) {
      configMaps.put(c.getMetadata().getName(), c);
    }
    assertThat(configMaps).containsKeys("atelier-config", "atelier-databases");
    for (Deployment d : deployments) {
      String name = d.getMetadata().getName();
      assertThat(SERVICES).contains(name);
      PodSpec pod = d.getSpec().getTemplate().getSpec();
      Container c = container(d);
      assertHttpProbe(name, c.getLivenessProbe(), "/q/health/live");
      assertHttpProbe(name, c.getReadinessProbe(), "/q/health/ready");
      assertThat(c.getResources().getRequests()).as(name).containsKeys("cpu", "memory");
      assertThat(c.getResources().getLimits()).as(name).containsKey("memory");
      assertThat(pod.getSecurityContext().getRunAsNonRoot()).as(name).isTrue();
      assertThat(pod.getSecurityContext().getRunAsUser()).as(name).isPositive();
      assertThat(c.getSecurityContext()).as(name + " container securityContext").isNotNull();
      assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).as(name).isFalse();
      assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).as(name).isTrue();
      assertThat(c.getSecurityContext().getCapabilities().getDrop()).as(name).contains("ALL");
      assertThat(c.getSecurityContext().getPrivileged()).as(name).isNotEqualTo(Boolean.TRUE);
      // A read-only root needs a writable /tmp.
      String tmp =
          c.getVolumeMounts().stream()
              .filter(m -> m.getMountPath().equals("/tmp"))
              .findFirst()
              .orElseThrow(() -> new AssertionError(name + " mounts nothing at /tmp"))
              .getName();
      assertThat(pod.getVolumes().stream().filter(v -> v.getName().equals(tmp)).findFirst())
          .as(name)
          .hasValueSatisfying(v -> assertThat(v.getEmptyDir()).isNotNull());
      assertThat(c.getEnvFrom().stream().map(e -> e.getConfigMapRef().getName()))
          .as(name)
          .contains("atelier-config");
      for (EnvVar env : c.getEnv()) {
        if (env.getValueFrom() != null && env.getValueFrom().getConfigMapKeyRef() != null) {
          var ref = env.getValueFrom().getConfigMapKeyRef();
          assertThat(configMaps).as(name + " " + env.getName()).containsKey(ref.getName());
          assertThat(configMaps.get(ref.getName()).getData())
              .as(name + " " + env.getName())
              .containsKey(ref.getKey());
        }
      }
    }
  }

  private static void checkBudgets(
      List<Deployment> deployments, List<PodDisruptionBudget> budgets) {
    for (Deployment d : deployments) {
      Map<String, String> labels = d.getSpec().getTemplate().getMetadata().getLabels();
      assertThat(
              budgets.stream()
                  .filter(p -> p.getSpec().getSelector().getMatchLabels() != null)
                  .filter(
                      p ->
                          labels
                              .entrySet()
                              .containsAll(p.getSpec().getSelector().getMatchLabels().entrySet())))
          .as("PDB selecting %s", d.getMetadata().getName())
          .isNotEmpty();
    }
  }

  private static void assertHttpProbe(String name, Probe probe, String path) {
    assertThat(probe).as(name + " " + path).isNotNull();
    assertThat(probe.getHttpGet().getPath()).as(name).isEqualTo(path);
  }

  // --- rendering the base the way kustomize does (resources + JSON patches by kind/name)

  private List<HasMetadata> renderBase() {
    Path base = K8S.resolve("base");
    JsonNode k = kustomization(base);
    List<JsonNode> docs = new ArrayList<>();
    for (String resource : strings(k.path("resources"))) {
      docs.addAll(documents(base.resolve(resource)));
    }
    for (JsonNode patch : k.path("patches")) {
      JsonNode ops = documents(base.resolve(patch.path("path").asText())).get(0);
      String kind = patch.path("target").path("kind").asText(null);
      String name = patch.path("target").path("name").asText(null);
      for (JsonNode doc : docs) {
        if ((kind == null || kind.equals(doc.path("kind").asText()))
            && (name == null || doc.path("metadata").path("name").asText().matches(name))) {
          ops.forEach(op -> apply((ObjectNode) doc, op));
        }
      }
    }
    return objects(docs);
  }

  /** RFC 6902 add/replace/remove on object paths and list indexes: what the patches here use. */
  private static void apply(ObjectNode doc, JsonNode op) {
    String[] parts = op.path("path").asText().substring(1).split("/");
    JsonNode parent = doc;
    for (int i = 0; i < parts.length - 1; i++) {
      parent = parent.isArray() ? parent.get(Integer.parseInt(parts[i])) : parent.get(parts[i]);
      assertThat(parent).as("patch path %s", op.path("path").asText()).isNotNull();
    }
    String last = parts[parts.length - 1];
    switch (op.path("op").asText()) {
      case "add", "replace" -> {
        if (parent.isArray() && last.equals("-")) {
          ((ArrayNode) parent).add(op.get("value").deepCopy());
        } else if (parent.isArray()) {
          ((ArrayNode) parent).set(Integer.parseInt(last), op.get("value").deepCopy());
        } else {
          ((ObjectNode) parent).set(last, op.get("value").deepCopy());
        }
      }
      case "remove" -> ((ObjectNode) parent).remove(last);
      default -> throw new AssertionError("unsupported patch op " + op);
    }
  }

  private static List<JsonNode> kustomize(Path dir) throws Exception {
    Process p =
        new ProcessBuilder("kubectl", "kustomize", dir.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("kubectl kustomize %s", dir).isZero();
    return parse(new String(out, StandardCharsets.UTF_8));
  }

  private static boolean kubectl() {
    String path = System.getenv().getOrDefault("PATH", "");
    return Arrays.stream(path.split(File.pathSeparator))
        .anyMatch(d -> Files.isExecutable(Path.of(d, "kubectl")));
  }

  // --- files and parsing

  private static List<Path> yamlFiles() {
    try (Stream<Path> walk = Files.walk(K8S)) {
      return walk.filter(Files::isRegularFile)
          .filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Path> kustomizationDirs() {
    return yamlFiles().stream()
        .filter(p -> p.getFileName().toString().equals("kustomization.yaml"))
        .map(Path::getParent)
        .toList();
  }

  private static JsonNode kustomization(Path dir) {
    JsonNode k = documents(dir.resolve("kustomization.yaml")).get(0);
    assertThat(isKustomization(k)).as(dir.toString()).isTrue();
    return k;
  }

  private static boolean isKustomization(JsonNode doc) {
    return doc.path("apiVersion").asText().startsWith("kustomize.config.k8s.io/");
  }

  private static List<JsonNode> documents(Path file) {
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(file.toString(), e);
    }
  }

  private static List<JsonNode> parse(String yaml) {
    // A parser rather than readValues: readValues would split a top-level list (a JSON patch).
    try (JsonParser parser = YAML.getFactory().createParser(yaml)) {
      List<JsonNode> docs = new ArrayList<>();
      while (parser.nextToken() != null) {
        JsonNode doc = YAML.readTree(parser);
        if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
          docs.add(doc);
        }
      }
      return docs;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The Kubernetes objects among the documents (kustomizations and patches left out). */
  private static List<HasMetadata> objects(List<JsonNode> docs) {
    List<HasMetadata> out = new ArrayList<>();
    for (JsonNode doc : docs) {
      if (doc.isObject() && !isKustomization(doc)) {
        out.add(toObject(doc));
      }
    }
    return out;
  }

  private static HasMetadata toObject(JsonNode doc) {
    assertThat(doc.path("apiVersion").asText()).as(doc.toString()).isNotBlank();
    assertThat(doc.path("kind").asText()).as(doc.toString()).isNotBlank();
    return KUBE.unmarshal(doc.toString(), HasMetadata.class);
  }

  private static <T> List<T> ofType(List<HasMetadata> objects, Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  private static Deployment deployment(List<HasMetadata> objects, String name) {
    return ofType(objects, Deployment.class).stream()
        .filter(d -> d.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no Deployment " + name));
  }

  private static Container container(Deployment d) {
    List<Container> containers = d.getSpec().getTemplate().getSpec().getContainers();
    assertThat(containers).as(d.getMetadata().getName()).hasSize(1);
    return containers.get(0);
  }

  private static GenericKubernetesResource single(List<HasMetadata> objects, String kind) {
    List<GenericKubernetesResource> found =
        ofType(objects, GenericKubernetesResource.class).stream()
            .filter(o -> o.getKind().equals(kind))
            .toList();
    assertThat(found).as(kind).hasSize(1);
    return found.get(0);
  }

  private static Secret secretTemplate() {
    return ofType(objects(documents(K8S.resolve("atelier-secrets.template.yaml"))), Secret.class)
        .get(0);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** The roles a worker consumes by default (WorkerConfig), the queues KEDA must watch. */
  private static List<String> workerRoles() throws IOException {
    String config =
        Files.readString(
            ROOT.resolve(
                "agent-worker-service/src/main/java/dev/atelier/worker/config/WorkerConfig.java"));
    Matcher m =
        Pattern.compile("@WithDefault\\(\"([a-z,-]+)\"\\)\\s*List<String> roles\\(\\)")
            .matcher(config);
    assertThat(m.find()).as("WorkerConfig.roles() default").isTrue();
    List<String> roles = List.of(m.group(1).split(","));
    assertThat(roles).hasSize(6);
    return roles;
  }

  private static String projectVersion() throws IOException {
    Matcher m =
        Pattern.compile("<artifactId>atelier-parent</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(Files.readString(ROOT.resolve("system-tests/pom.xml")));
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  private String rel(Path p) {
    return ROOT.relativize(p).toString();
  }
}
