package dev.atelier.orchestrator.model;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The {@code needs} graph of a workflow definition. Assumes the ids are unique. */
public final class DefinitionGraph {

  private final List<String> order = new ArrayList<>();
  private final Map<String, List<String>> needs = new HashMap<>();
  private final Map<String, List<String>> dependents = new HashMap<>();

  public DefinitionGraph(List<StepDefinition> steps) {
    for (StepDefinition s : steps) {
      order.add(s.id());
      needs.put(s.id(), s.needs());
      dependents.putIfAbsent(s.id(), new ArrayList<>());
    }
    for (StepDefinition s : steps) {
      for (String n : s.needs()) {
        dependents.computeIfAbsent(n, k -> new ArrayList<>()).add(s.id());
      }
    }
  }

  public static DefinitionGraph of(WorkflowDefinition definition) {
    return new DefinitionGraph(definition.steps());
  }

  /** Every step {@code id} needs, directly or through others, in definition order. */
  public List<String> ancestors(String id) {
    return inOrder(reach(id, needs));
  }

  /** Every step that needs {@code id}, directly or through others, in definition order. */
  public List<String> descendants(String id) {
    return inOrder(reach(id, dependents));
  }

  /**
   * The steps on the paths from {@code from} to {@code to}, both included, in definition order:
   * what must run again when {@code to} loops back to {@code from}.
   */
  public List<String> between(String from, String to) {
    Set<String> down = reach(from, dependents);
    down.add(from);
    Set<String> up = reach(to, needs);
    up.add(to);
    down.retainAll(up);
    return inOrder(down);
  }

  /**
   * Steps that can never start because they are on a cycle of {@code needs} or need such a step
   * (Kahn's algorithm leaves them over); empty for a DAG. Unknown needs are ignored here.
   */
  public List<String> stuckOnCycles() {
    Map<String, Integer> missing = new HashMap<>();
    for (String id : order) {
      missing.put(id, (int) needs.get(id).stream().filter(needs::containsKey).count());
    }
    Deque<String> ready = new ArrayDeque<>();
    missing.forEach(
        (id, n) -> {
          if (n == 0) {
            ready.add(id);
          }
        });
    Set<String> done = new LinkedHashSet<>();
    while (!ready.isEmpty()) {
      String id = ready.poll();
      done.add(id);
      for (String d : dependents.getOrDefault(id, List.of())) {
        if (missing.computeIfPresent(d, (k, n) -> n - 1) == 0) {
          ready.add(d);
        }
      }
    }
    return order.stream().filter(id -> !done.contains(id)).toList();
  }

  private Set<String> reach(String start, Map<String, List<String>> edges) {
    Set<String> seen = new LinkedHashSet<>();
    Deque<String> todo = new ArrayDeque<>(edges.getOrDefault(start, List.of()));
    while (!todo.isEmpty()) {
      String id = todo.pop();
      if (seen.add(id)) {
        todo.addAll(edges.getOrDefault(id, List.of()));
      }
    }
    return seen;
  }

  private List<String> inOrder(Set<String> ids) {
    return order.stream().filter(ids::contains).toList();
  }
}
