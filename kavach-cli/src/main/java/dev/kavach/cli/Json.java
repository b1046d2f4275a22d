package dev.kavach.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kavach.ExecResult;
import dev.kavach.backend.Enforcement;
import dev.kavach.scanning.Finding;
import dev.kavach.scoring.Modifier;
import dev.kavach.scoring.StrengthScore;
import java.util.List;

/** The CLI's JSON output: snake_case, stable field order. */
final class Json {
  static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Json() {}

  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  static ArrayNode array() {
    return MAPPER.createArrayNode();
  }

  static String write(Object node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static ObjectNode enforcement(Enforcement e) {
    ObjectNode n = object();
    n.put("backend", e.backend());
    ArrayNode ns = n.putArray("namespaces");
    e.sortedNamespaces().forEach(ns::add);
    n.put("network_isolated", e.networkIsolated());
    n.put("read_only_root", e.readOnlyRoot());
    n.put("seccomp_profile", e.seccompProfile());
    n.put("landlock_abi", e.landlockAbi());
    n.put("landlock_rules", e.landlockRules());
    n.put("memory_limit_bytes", e.memoryLimitBytes());
    n.put("cpu_limit", e.cpuLimit());
    n.put("pids_limit", e.pidsLimit());
    n.put("file_size_limit_bytes", e.fileSizeLimitBytes());
    n.put("capabilities_dropped", e.capabilitiesDropped());
    n.put("no_new_privs", e.noNewPrivs());
    n.put("uid", e.uid());
    ArrayNode notes = n.putArray("notes");
    e.notes().forEach(notes::add);
    if (e.egress() == null) {
      n.putNull("egress");
    } else {
      ObjectNode egress = n.putObject("egress");
      ArrayNode hosts = egress.putArray("allowed_hosts");
      e.egress().allowedHosts().forEach(hosts::add);
      ArrayNode ports = egress.putArray("allowed_ports");
      e.egress().allowedPorts().forEach(ports::add);
      ArrayNode denied = egress.putArray("denied_hosts");
      e.egress().deniedHosts().forEach(denied::add);
      ArrayNode masked = egress.putArray("masked_secrets");
      e.egress().maskedSecrets().forEach(masked::add);
    }
    return n;
  }

  static ObjectNode score(StrengthScore s, List<Modifier> breakdown) {
    ObjectNode n = object();
    n.put("value", s.value());
    n.put("label", s.label());
    ArrayNode mods = n.putArray("modifiers");
    for (Modifier m : breakdown) {
      mods.addObject()
          .put("name", m.name())
          .put("points", m.points())
          .put("counted", m.counted())
          .put("why", m.why());
    }
    return n;
  }

  static ObjectNode result(ExecResult r, ObjectNode score, ObjectNode declared) {
    ObjectNode n = object();
    n.put("exit_code", r.exitCode());
    if (r.signal().isPresent()) {
      n.put("signal", r.signal().getAsInt());
    } else {
      n.putNull("signal");
    }
    n.put("timed_out", r.timedOut());
    n.put("oom_killed", r.oomKilled());
    n.put("duration_ms", r.duration().toMillis());
    n.put("stdout", r.stdoutText());
    n.put("stderr", r.stderrText());
    n.put("stdout_truncated", r.stdoutTruncated());
    n.put("stderr_truncated", r.stderrTruncated());
    n.set("enforcement", enforcement(r.enforcement()));
    n.set("score", score);
    n.set("declared_score", declared);
    if (r.usage().isPresent()) {
      n.putObject("usage")
          .put("cpu_time_ms", r.usage().get().cpuTime().toMillis())
          .put("memory_peak_bytes", r.usage().get().memoryPeakBytes())
          .put("pids_peak", r.usage().get().pidsPeak());
    } else {
      n.putNull("usage");
    }
    if (r.scan().isPresent()) {
      ObjectNode scan = n.putObject("scan");
      scan.put("verdict", r.scan().get().verdict().toString());
      scan.put("worst", r.scan().get().worst().toString());
      scan.put("quarantine_id", r.scan().get().quarantineId());
      ArrayNode findings = scan.putArray("findings");
      for (Finding f : r.scan().get().findings()) {
        findings
            .addObject()
            .put("scanner", f.scanner())
            .put("severity", f.severity().toString())
            .put("category", f.category())
            .put("message", f.message())
            .put("evidence", f.evidence())
            .put("stream", f.stream())
            .put("offset", f.offset());
      }
    } else {
      n.putNull("scan");
    }
    return n;
  }
}
