package dev.kavach.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One lifecycle event of a sandbox. Details never carry secret values: only names, counts, codes
 * and scores.
 *
 * @param time when it happened
 * @param sandboxId the sandbox
 * @param agentId the agent the sandbox runs for, if configured
 * @param type what happened
 * @param details event-specific values (strings, numbers, booleans), in insertion order
 */
public record AuditEvent(
    Instant time,
    String sandboxId,
    @Nullable String agentId,
    Type type,
    Map<String, Object> details) {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Kinds of events. */
  public enum Type {
    /** Sandbox created (configuration validated, backend selected). */
    CREATED("created"),
    /** Sandbox started (host resources allocated). */
    STARTED("started"),
    /** A command is about to run. */
    EXEC_START("exec.start"),
    /** A command finished, timed out or was killed. */
    EXEC_END("exec.end"),
    /** The externalization gate decided on an output. */
    GATE_DECISION("gate.decision"),
    /** A file was read out of the workspace ({@code Sandbox.copyOut}). */
    COPY_OUT("copy.out"),
    /** Sandbox paused. */
    PAUSED("paused"),
    /** Sandbox resumed. */
    RESUMED("resumed"),
    /** Sandbox stopped (every process killed). */
    STOPPED("stopped"),
    /** Sandbox destroyed (everything released). */
    DESTROYED("destroyed"),
    /** An operation failed. */
    ERROR("error"),
    /** The egress proxy let a connection or request out (destination, rule, secrets swapped). */
    EGRESS_ALLOWED("egress.allowed"),
    /** The egress proxy refused a connection or request (destination, rule, reason). */
    EGRESS_DENIED("egress.denied");

    private final String wireName;

    Type(String wireName) {
      this.wireName = wireName;
    }

    /** The name written to logs, for example {@code exec.start}. */
    public String wireName() {
      return wireName;
    }
  }

  /** Copies the details, keeping their order. */
  public AuditEvent {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(sandboxId, "sandboxId");
    Objects.requireNonNull(type, "type");
    details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
  }

  /** One JSON object: {@code time, sandbox_id, agent_id, type, details}. */
  public String toJson() {
    ObjectNode node = toJsonNode();
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("audit details must be plain values", e);
    }
  }

  /** The event as a JSON tree, for sinks that wrap it. */
  ObjectNode toJsonNode() {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("time", time.toString());
    node.put("sandbox_id", sandboxId);
    node.put("agent_id", agentId);
    node.put("type", type.wireName());
    node.set("details", MAPPER.valueToTree(details));
    return node;
  }
}
