package dev.kavach.scanning;

import java.util.Arrays;

/**
 * A growable list of matched spans {@code [start, end)} in one stream, each with the rule that
 * matched and, for injected secrets, which secret and form. Kept as parallel int arrays: a 64 KiB
 * output can hold thousands of matches and the gate runs on every exec.
 */
final class Matches {
  private int size;
  private int[] start = new int[8];
  private int[] end = new int[8];
  private int[] rule = new int[8];
  private int[] aux = new int[8];

  void add(int s, int e, int r, int a) {
    if (size == start.length) {
      int n = size * 2;
      start = Arrays.copyOf(start, n);
      end = Arrays.copyOf(end, n);
      rule = Arrays.copyOf(rule, n);
      aux = Arrays.copyOf(aux, n);
    }
    start[size] = s;
    end[size] = e;
    rule[size] = r;
    aux[size] = a;
    size++;
  }

  int size() {
    return size;
  }

  int start(int i) {
    return start[i];
  }

  int end(int i) {
    return end[i];
  }

  int rule(int i) {
    return rule[i];
  }

  int aux(int i) {
    return aux[i];
  }

  /** Drops span {@code i} (order is not preserved; callers sort afterwards). */
  void removeAt(int i) {
    size--;
    start[i] = start[size];
    end[i] = end[size];
    rule[i] = rule[size];
    aux[i] = aux[size];
  }

  /**
   * Indices sorted by start, then longest first, then rule order: the order findings are reported
   * in and the order redaction resolves overlaps in.
   */
  int[] sortedOrder() {
    Integer[] idx = new Integer[size];
    for (int i = 0; i < size; i++) {
      idx[i] = i;
    }
    Arrays.sort(
        idx,
        (a, b) -> {
          if (start[a] != start[b]) {
            return Integer.compare(start[a], start[b]);
          }
          if (end[a] != end[b]) {
            return Integer.compare(end[b], end[a]);
          }
          return Integer.compare(rule[a], rule[b]);
        });
    int[] out = new int[size];
    for (int i = 0; i < size; i++) {
      out[i] = idx[i];
    }
    return out;
  }
}
