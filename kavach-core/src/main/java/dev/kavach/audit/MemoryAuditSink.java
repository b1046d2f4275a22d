package dev.kavach.audit;

import java.util.ArrayList;
import java.util.List;

/** An {@link AuditSink} that keeps events in memory. */
public final class MemoryAuditSink implements AuditSink {
  private final List<AuditEvent> events = new ArrayList<>();

  MemoryAuditSink() {}

  @Override
  public synchronized void record(AuditEvent event) {
    events.add(event);
  }

  /** A snapshot of the events recorded so far, oldest first. */
  public synchronized List<AuditEvent> events() {
    return List.copyOf(events);
  }

  /** The wire names of the recorded event types, oldest first. */
  public synchronized List<String> types() {
    List<String> out = new ArrayList<>();
    for (AuditEvent e : events) {
      out.add(e.type().wireName());
    }
    return out;
  }
}
