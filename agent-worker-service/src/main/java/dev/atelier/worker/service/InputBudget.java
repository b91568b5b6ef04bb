package dev.atelier.worker.service;

import dev.atelier.contracts.Utf16;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The context limit rule: when the inputs together are longer than the budget, the longest inputs
 * are cut first, all down to one common length chosen so the total fits ("water-filling"); inputs
 * shorter than that length are kept whole. A cut input ends with a visible {@code [truncated N
 * chars]} marker so neither the model nor a reader mistakes it for the whole artifact. The marker
 * is not counted against the budget.
 */
final class InputBudget {

  private InputBudget() {}

  /** The inputs, cut to fit {@code maxChars} in total, in their original order. */
  static Fitted fit(List<LoadedInput> inputs, int maxChars) {
    long total = inputs.stream().mapToLong(i -> i.text().length()).sum();
    if (total <= maxChars) {
      return new Fitted(inputs, List.of());
    }
    int cap = commonLength(inputs, maxChars);
    List<LoadedInput> fitted = new ArrayList<>(inputs.size());
    List<String> notes = new ArrayList<>();
    for (LoadedInput input : inputs) {
      String text = input.text();
      if (text.length() <= cap) {
        fitted.add(input);
        continue;
      }
      int cut = Utf16.cutAt(text, cap);
      int removed = text.length() - cut;
      fitted.add(
          new LoadedInput(
              input.name(),
              input.version(),
              text.substring(0, cut) + "\n[truncated " + removed + " chars]"));
      notes.add(input.name() + "@" + input.version() + " truncated by " + removed + " chars");
    }
    return new Fitted(fitted, notes);
  }

  /** The largest length L such that the inputs, each cut to at most L, total at most the budget. */
  private static int commonLength(List<LoadedInput> inputs, int maxChars) {
    int[] lengths = inputs.stream().mapToInt(i -> i.text().length()).toArray();
    Arrays.sort(lengths);
    long budget = Math.max(0, maxChars);
    for (int i = 0; i < lengths.length; i++) {
      long share = budget / (lengths.length - i);
      if (lengths[i] > share) {
        return (int) share;
      }
      budget -= lengths[i];
    }
    return Integer.MAX_VALUE;
  }

  /** Inputs after the rule, and a note per cut input. */
  record Fitted(List<LoadedInput> inputs, List<String> truncations) {}
}
